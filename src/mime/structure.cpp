#include "mailtrixy/mime/structure.hpp"

#include <algorithm>
#include <limits>

#include "header_fields.hpp"
#include "rfc822_lexer.hpp"

namespace mailtrixy::mime {
namespace {

using detail::iequals;

// Hostile messages could otherwise make millions of parts; past this many, further parts of a
// multipart stay inside its body (Dovecot has the same kind of limit, max_total_mime_parts).
constexpr std::size_t kMaxParts = 10000;
constexpr std::size_t kOpen = std::numeric_limits<std::size_t>::max();

// One part while parsing. The tree is kept flat (indices) so that growing it never moves a part
// that an open boundary refers to.
struct Node {
  std::size_t start = 0;       // first byte of the part's header
  std::size_t header_end = 0;  // first byte of the body
  std::size_t end = kOpen;     // one past the last byte of the body; kOpen while open
  int parent = -1;
  int depth = 0;
  std::vector<int> children;
  std::vector<detail::RawField> fields;
  bool is_mime = false;            // MIME-Version or Content-Type seen, or a multipart's child
  bool seen_content_type = false;  // a Content-Type field was present
  bool multipart = false;          // Content-Type multipart/*
  bool digest = false;             // multipart/digest
  bool rfc822 = false;             // message/rfc822, or a typeless part of a digest
};

struct OpenBoundary {
  std::string text;
  int node = 0;
};

bool starts_with_field(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || !iequals(line.substr(0, name.size()), name)) return false;
  std::size_t i = name.size();
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i < line.size() && line[i] == ':';
}

class StructureParser {
 public:
  explicit StructureParser(std::string_view message) : m_(message) {}

  MessageStructure parse() {
    nodes_.push_back(Node{});
    int node = 0;
    std::size_t pos = 0;
    // Each round reads one part's header, then either opens the encapsulated message of a
    // message/rfc822 part or scans the body for the next boundary line, which ends parts and may
    // open the next sibling.
    for (;;) {
      std::size_t scan_from = 0;
      std::size_t body_start = parse_header(node, pos, scan_from);
      bool stopped_at_boundary = scan_from != body_start;
      classify(node);
      const int cut_node = stopped_at_boundary ? node : -1;
      if (nodes_[index(node)].rfc822 && can_open_child(node)) {
        int child = open_child(node, body_start);
        if (!stopped_at_boundary) {
          node = child;
          pos = body_start;
          continue;
        }
        // The header was cut by a boundary: the encapsulated message is empty.
        nodes_[index(child)].header_end = body_start;
        node = child;
      }
      if (boundaries_.empty()) break;
      std::size_t next_part = 0;
      node = scan_body(node, scan_from, body_start, cut_node, next_part);
      if (node < 0) break;
      pos = next_part;
    }
    for (Node& n : nodes_) {
      if (n.end == kOpen) n.end = m_.size();
      n.end = std::max(n.end, n.header_end);
    }
    count_lines();
    MessageStructure structure;
    structure.truncated = truncated_;
    structure.root = build(0);
    return structure;
  }

 private:
  static std::size_t index(int node) { return static_cast<std::size_t>(node); }

  bool can_open_child(int parent) {
    if (nodes_.size() >= kMaxParts || nodes_[index(parent)].depth + 1 > kMaxDepth) {
      truncated_ = true;
      return false;
    }
    return true;
  }

  int open_child(int parent, std::size_t start) {
    Node child;
    child.start = start;
    child.header_end = start;
    child.parent = parent;
    child.depth = nodes_[index(parent)].depth + 1;
    child.is_mime = nodes_[index(parent)].multipart;
    nodes_.push_back(std::move(child));
    int child_index = static_cast<int>(nodes_.size() - 1);
    nodes_[index(parent)].children.push_back(child_index);
    return child_index;
  }

  // The open boundary that the line at `pos` starts ("--" + boundary), or -1. The line only has
  // to begin with the boundary; among several matches the longest wins, and one that matches the
  // whole line (or the whole line but a trailing "--") wins at once, newest first.
  int find_boundary(std::size_t pos) const {
    if (boundaries_.empty() || pos + 2 > m_.size() || m_[pos] != '-' || m_[pos + 1] != '-') return -1;
    std::string_view line = m_.substr(pos + 2);
    std::size_t lf = line.find('\n');
    if (lf != std::string_view::npos) line = line.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool trailing_dashes = line.size() > 2 && line.ends_with("--");
    int best = -1;
    for (int i = static_cast<int>(boundaries_.size()) - 1; i >= 0; --i) {
      const std::string& b = boundaries_[index(i)].text;
      if (b.size() <= line.size() && line.compare(0, b.size(), b) == 0 &&
          (best < 0 || boundaries_[index(best)].text.size() < b.size())) {
        best = i;
        if (b.size() == line.size() || (trailing_dashes && b.size() == line.size() - 2)) break;
      }
    }
    return best;
  }

  // Whether the boundary line at `pos` for `boundary` is the closing "--boundary--".
  bool is_closing(std::size_t pos, const std::string& boundary) const {
    std::size_t after = pos + 2 + boundary.size();
    return after + 2 <= m_.size() && m_[after] == '-' && m_[after + 1] == '-';
  }

  // Reads the header of `node` starting at `pos`: lines up to the empty line (included), or up to
  // a boundary line of an enclosing multipart, whose preceding line break then belongs to the
  // boundary. Returns where the body starts; `scan_from` is where body scanning resumes (the
  // boundary line when the header was cut short, else the body start).
  std::size_t parse_header(int node, std::size_t pos, std::size_t& scan_from) {
    const std::size_t start = pos;
    std::size_t previous_newline = 0;
    std::size_t body_start = m_.size();
    scan_from = m_.size();
    std::string boundary_parameter;
    bool have_boundary_parameter = false;
    while (pos < m_.size()) {
      bool at_empty_line = m_[pos] == '\n' || (m_[pos] == '\r' && pos + 1 < m_.size() && m_[pos + 1] == '\n');
      if (at_empty_line && have_boundary_parameter && nodes_[index(node)].is_mime) {
        // Known before the body starts, so "--boundary" lines can be told apart from an
        // enclosing boundary with the same prefix.
        if (nodes_[index(node)].depth + 1 > kMaxDepth) {
          truncated_ = true;
        } else {
          boundaries_.push_back(OpenBoundary{boundary_parameter, node});
        }
        have_boundary_parameter = false;
      }
      int boundary = find_boundary(pos);
      if (boundary >= 0 && boundaries_[index(boundary)].node != node) {
        body_start = pos - std::min(previous_newline, pos - start);
        scan_from = pos;
        break;
      }
      std::size_t lf = m_.find('\n', pos);
      std::size_t next = lf == std::string_view::npos ? m_.size() : lf + 1;
      if (at_empty_line) {
        int after = find_boundary(next);
        if (after >= 0 && boundaries_[index(after)].node != node) {
          // An enclosing boundary right after the empty line: like any header line before a
          // boundary, the empty line's line break belongs to the boundary (Dovecot).
          body_start = pos;
          scan_from = next;
        } else {
          body_start = scan_from = next;
        }
        break;
      }
      std::string_view line = m_.substr(pos, next - pos);
      Node& n = nodes_[index(node)];
      if (starts_with_field(line, "Mime-Version")) {
        n.is_mime = true;
      } else if (starts_with_field(line, "Content-Type")) {
        n.is_mime = true;
        if (!n.seen_content_type) {
          n.seen_content_type = true;
          std::size_t field_end = field_end_from(next);
          note_content_type(node, m_.substr(pos, field_end - pos), boundary_parameter, have_boundary_parameter);
        }
      }
      previous_newline = lf == std::string_view::npos ? 0 : ((lf > pos && m_[lf - 1] == '\r') ? 2 : 1);
      pos = next;
    }
    Node& n = nodes_[index(node)];
    n.header_end = body_start;
    n.fields = detail::split_header_fields(m_.substr(start, body_start - start));
    return body_start;
  }

  // End of the header field whose first line ends at `next`: after its continuation lines.
  std::size_t field_end_from(std::size_t next) const {
    while (next < m_.size() && (m_[next] == ' ' || m_[next] == '\t')) {
      std::size_t lf = m_.find('\n', next);
      next = lf == std::string_view::npos ? m_.size() : lf + 1;
    }
    return next;
  }

  void note_content_type(int node, std::string_view field, std::string& boundary, bool& have_boundary) {
    std::vector<detail::RawField> fields = detail::split_header_fields(field);
    if (fields.empty()) return;
    detail::Rfc822Lexer lexer(fields.front().value);
    lexer.skip_lwsp();
    std::string type;
    int ret = lexer.parse_content_type(type);
    Node& n = nodes_[index(node)];
    if (iequals(type, "message/rfc822")) {
      n.rfc822 = true;
    } else if (type.size() >= 10 && iequals(std::string_view(type).substr(0, 10), "multipart/")) {
      n.multipart = true;
      n.digest = iequals(std::string_view(type).substr(10), "digest");
    }
    if (ret < 0 || !n.multipart) return;
    for (const Parameter& parameter : detail::parse_parameters(lexer)) {
      if (iequals(parameter.name, "boundary")) {
        boundary = parameter.value;
        have_boundary = true;
        break;
      }
    }
  }

  // After the header: the structural flags as Dovecot settles them.
  void classify(int node) {
    Node& n = nodes_[index(node)];
    if (!n.is_mime) {
      n.rfc822 = false;
      n.multipart = false;
      n.digest = false;
    }
    if ((!n.seen_content_type || !n.is_mime) && n.parent >= 0 && nodes_[index(n.parent)].digest) {
      n.rfc822 = true;
    }
  }

  // Scans the body of `node` from `pos` (a line start) for boundary lines. `first_line_end` is
  // where the body ends when the very first line is a boundary. `cut_node` is the part whose
  // header a boundary cut short (or -1): the line break before that boundary then belongs to the
  // parent of `cut_node`, so parts above it end after the line break and parts from it down end
  // before. Returns the part whose header starts next (at `next_part`), or -1 at the end.
  int scan_body(int node, std::size_t pos, std::size_t first_line_end, int cut_node, std::size_t& next_part) {
    bool first_line = true;
    std::size_t scan_start = pos;
    for (;;) {
      int boundary = find_boundary(pos);
      if (boundary >= 0) {
        std::size_t end = first_line_end;
        if (!first_line) {
          end = pos - 1;  // the LF before the boundary line
          if (end > scan_start && m_[end - 1] == '\r') --end;
        }
        const OpenBoundary open = boundaries_[index(boundary)];
        bool below_cut = first_line && cut_node >= 0;
        for (int current = node; current != open.node; current = nodes_[index(current)].parent) {
          nodes_[index(current)].end = (first_line && cut_node >= 0 && !below_cut) ? pos : end;
          if (current == cut_node) below_cut = false;
        }
        cut_node = -1;
        node = open.node;
        std::size_t after = pos + 2 + open.text.size();
        bool closing = is_closing(pos, open.text);
        boundaries_.resize(index(boundary) + (closing ? 0 : 1));
        std::size_t lf = m_.find('\n', after);
        if (lf == std::string_view::npos) return -1;  // the boundary line runs to the end
        pos = lf + 1;
        if (!boundaries_.empty() && boundaries_.back().node == node && can_open_child(node)) {
          next_part = pos;
          return open_child(node, pos);
        }
        if (boundaries_.empty()) return -1;  // the rest is epilogue up to the end
        first_line = true;
        first_line_end = scan_start = pos;
        continue;
      }
      std::size_t lf = m_.find('\n', pos);
      if (lf == std::string_view::npos) return -1;
      pos = lf + 1;
      first_line = false;
    }
  }

  // Line counts of every body in one pass over the message, whatever the nesting depth.
  void count_lines() {
    std::vector<std::size_t> points;
    points.reserve(nodes_.size() * 2);
    for (const Node& n : nodes_) {
      points.push_back(n.header_end);
      points.push_back(n.end);
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    line_points_ = points;
    lines_before_.assign(points.size(), 0);
    std::uint64_t lines = 0;
    std::size_t previous = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      lines += static_cast<std::uint64_t>(std::count(m_.begin() + static_cast<std::ptrdiff_t>(previous),
                                                     m_.begin() + static_cast<std::ptrdiff_t>(points[i]), '\n'));
      lines_before_[i] = lines;
      previous = points[i];
    }
  }

  std::uint64_t lines_before(std::size_t position) const {
    auto it = std::lower_bound(line_points_.begin(), line_points_.end(), position);
    return lines_before_[static_cast<std::size_t>(it - line_points_.begin())];
  }

  Part build(int node) {
    const Node& n = nodes_[index(node)];
    Part part;
    part.whole = Span{n.start, n.end - n.start};
    part.header = Span{n.start, n.header_end - n.start};
    part.body = Span{n.header_end, n.end - n.header_end};
    detail::apply_content_fields(part, n.fields, n.is_mime);
    if (n.rfc822 && (!part.has_content_type || !n.is_mime)) {
      // A typeless part inside multipart/digest.
      part.type = "message";
      part.subtype = "rfc822";
    }
    part.multipart = n.multipart;
    part.message = n.rfc822;
    part.body_lines = lines_before(n.end) - lines_before(n.header_end);
    if (node == 0 || (n.parent >= 0 && nodes_[index(n.parent)].rfc822)) {
      part.envelope = detail::envelope_from_fields(n.fields);
    }
    part.children.reserve(n.children.size());
    for (int child : n.children) part.children.push_back(build(child));
    return part;
  }

  std::string_view m_;
  std::vector<Node> nodes_;
  std::vector<OpenBoundary> boundaries_;
  std::vector<std::size_t> line_points_;
  std::vector<std::uint64_t> lines_before_;
  bool truncated_ = false;
};

}  // namespace

std::string_view Span::in(std::string_view message) const {
  if (offset > message.size() || length > message.size() - offset) return {};
  return message.substr(offset, length);
}

MessageStructure parse_structure(std::string_view message) { return StructureParser(message).parse(); }

const Part* encapsulated_message(const Part& part) {
  return part.is_message() ? &part.children.front() : nullptr;
}

const Part* find_part(const MessageStructure& structure, std::span<const std::uint32_t> part_number) {
  const Part* part = &structure.root;
  bool first = true;
  for (std::uint32_t number : part_number) {
    if (number == 0) return nullptr;
    // After a message/rfc822 part the numbering continues inside the encapsulated message.
    if (!first) {
      if (const Part* inner = encapsulated_message(*part)) part = inner;
    }
    first = false;
    if (part->multipart) {
      if (number > part->children.size()) return nullptr;
      part = &part->children[number - 1];
    } else if (number != 1) {
      // A non-multipart message has exactly one part: its body.
      return nullptr;
    }
  }
  return part;
}

namespace {

void numbers_in(const Part& container, std::vector<std::uint32_t>& prefix,
                std::vector<std::vector<std::uint32_t>>& out);

// The numbers below `part` (reached by `path`): those of its encapsulated message, if any.
void numbers_after(const Part& part, std::vector<std::uint32_t>& path,
                   std::vector<std::vector<std::uint32_t>>& out) {
  if (const Part* inner = encapsulated_message(part)) numbers_in(*inner, path, out);
}

void numbers_in(const Part& container, std::vector<std::uint32_t>& prefix,
                std::vector<std::vector<std::uint32_t>>& out) {
  if (container.multipart) {
    for (std::size_t i = 0; i < container.children.size(); ++i) {
      prefix.push_back(static_cast<std::uint32_t>(i + 1));
      out.push_back(prefix);
      numbers_after(container.children[i], prefix, out);
      prefix.pop_back();
    }
  } else {
    prefix.push_back(1);
    out.push_back(prefix);
    numbers_after(container, prefix, out);
    prefix.pop_back();
  }
}

}  // namespace

std::vector<std::vector<std::uint32_t>> part_numbers(const MessageStructure& structure) {
  std::vector<std::vector<std::uint32_t>> out;
  std::vector<std::uint32_t> prefix;
  numbers_in(structure.root, prefix, out);
  return out;
}

RawEnvelope parse_raw_envelope(std::string_view header_bytes) {
  return detail::envelope_from_fields(detail::split_header_fields(header_bytes));
}

std::string normalize_crlf(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 32);
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) out.push_back('\r');
    out.push_back(message[i]);
  }
  return out;
}

}  // namespace mailtrixy::mime
