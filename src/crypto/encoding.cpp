#include "mailtrixy/crypto/encoding.hpp"

#include <array>
#include <cstdint>

namespace mailtrixy::crypto {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr int kInvalid = -1;

using DecodeTable = std::array<int, 256>;

constexpr DecodeTable make_decode_table(std::string_view alphabet) {
  DecodeTable table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  }
  return table;
}

constexpr DecodeTable kBase64Table = make_decode_table(kBase64Alphabet);
constexpr DecodeTable kBase64UrlTable = make_decode_table(kBase64UrlAlphabet);

std::string encode(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                                static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                                static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += alphabet[(group >> 18) & 0x3f];
    out += alphabet[(group >> 12) & 0x3f];
    out += alphabet[(group >> 6) & 0x3f];
    out += alphabet[group & 0x3f];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
  if (rest == 2) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
  out += alphabet[(group >> 18) & 0x3f];
  out += alphabet[(group >> 12) & 0x3f];
  if (rest == 2) out += alphabet[(group >> 6) & 0x3f];
  if (pad) out.append(rest == 1 ? 2 : 1, '=');
  return out;
}

enum class Padding { required, optional };

Result<std::string> decode(std::string_view text, const DecodeTable& table, Padding padding,
                           std::string_view name) {
  // Split off the padding first; everything before it must be alphabet characters.
  std::size_t data_length = text.size();
  while (data_length > 0 && text[data_length - 1] == '=') --data_length;
  const std::size_t pad_length = text.size() - data_length;

  for (std::size_t i = 0; i < data_length; ++i) {
    if (table[static_cast<unsigned char>(text[i])] == kInvalid) {
      return make_error(std::string(name) + " text has an invalid character at position " +
                        std::to_string(i + 1));
    }
  }
  const std::size_t tail = data_length % 4;
  if (tail == 1) {
    return make_error(std::string(name) + " text has an impossible length (" +
                      std::to_string(data_length) + " characters before padding)");
  }
  const std::size_t expected_padding = tail == 0 ? 0 : 4 - tail;
  const bool padding_ok = pad_length == expected_padding ||
                          (padding == Padding::optional && pad_length == 0);
  if (!padding_ok) {
    return make_error(std::string(name) + " text has wrong '=' padding (" +
                      std::to_string(pad_length) + " characters; " +
                      std::to_string(expected_padding) + " expected)");
  }

  std::string out;
  out.reserve(data_length / 4 * 3 + 2);
  std::uint32_t accumulator = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_length; ++i) {
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(table[static_cast<unsigned char>(text[i])]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((accumulator >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, otherwise two different texts would decode to the same bytes.
  if (bits > 0 && (accumulator & ((1u << bits) - 1)) != 0) {
    return make_error(std::string(name) +
                      " text is not canonical: the last character carries non-zero unused bits");
  }
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) { return encode(bytes, kBase64Alphabet, true); }

Result<std::string> base64_decode(std::string_view text) {
  return decode(text, kBase64Table, Padding::required, "base64");
}

std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, kBase64UrlAlphabet, false);
}

Result<std::string> base64url_decode(std::string_view text) {
  return decode(text, kBase64UrlTable, Padding::optional, "base64url");
}

std::string hex_encode(std::string_view bytes) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0x0f];
  }
  return out;
}

Result<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return make_error("hex text has an odd number of digits (" + std::to_string(text.size()) + ")");
  }
  const auto digit_value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return kInvalid;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = digit_value(text[i]);
    const int low = digit_value(text[i + 1]);
    if (high == kInvalid || low == kInvalid) {
      return make_error("hex text has an invalid character at position " +
                        std::to_string(i + (high == kInvalid ? 1 : 2)));
    }
    out += static_cast<char>(high << 4 | low);
  }
  return out;
}

}  // namespace mailtrixy::crypto
