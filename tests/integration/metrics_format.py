"""A strict reader of the Prometheus text exposition format 0.0.4, for the tests of GET /metrics.

parse(text) checks every line and returns {family name: Family}; any deviation raises
FormatError naming the line. Checked: metric and label name syntax, label value escapes, one
HELP and one TYPE per family with TYPE before the family's samples, a family's samples together
(never interleaved with another family's), no duplicate series, values that parse as floats,
counters not negative, and for histograms: _bucket/_sum/_count only, every series' buckets in
increasing `le` order with non-decreasing counts, ending in le="+Inf" whose count equals _count.
"""

import math
import re

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class FormatError(AssertionError):
    pass


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []  # (sample name, {label: value}, float value)

    def value(self, suffix="", **labels):
        """The value of the one sample with exactly these labels (None when absent)."""
        for name, sample_labels, value in self.samples:
            if name == self.name + suffix and sample_labels == labels:
                return value
        return None

    def total(self, suffix="", **labels):
        """Sum over samples whose labels include these."""
        return sum(value for name, sample_labels, value in self.samples
                   if name == self.name + suffix and all(sample_labels.get(k) == v for k, v in labels.items()))


def parse_float(text, where):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise FormatError(f"{where}: {text!r} is not a number")
    return float(text)


def parse_labels(text, position, where):
    """Parses `{a="x",b="y"}` from text[position] == '{'; returns (labels, next position)."""
    labels = {}
    i = position + 1
    while True:
        if i < len(text) and text[i] == "}":
            return labels, i + 1
        match = LABEL_NAME.match(text, i)
        if not match:
            raise FormatError(f"{where}: bad label name at column {i}")
        name = match.group(0)
        i = match.end()
        if text[i:i + 2] != '="':
            raise FormatError(f"{where}: label {name} needs =\"value\"")
        i += 2
        value = []
        while True:
            if i >= len(text):
                raise FormatError(f"{where}: unterminated value of label {name}")
            c = text[i]
            if c == "\\":
                escaped = text[i + 1:i + 2]
                if escaped not in ("\\", '"', "n"):
                    raise FormatError(f"{where}: bad escape \\{escaped} in label {name}")
                value.append("\n" if escaped == "n" else escaped)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise FormatError(f"{where}: raw newline in label {name}")
            else:
                value.append(c)
                i += 1
        if name in labels:
            raise FormatError(f"{where}: label {name} given twice")
        labels[name] = "".join(value)
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        if i < len(text) and text[i] == "}":
            return labels, i + 1
        raise FormatError(f"{where}: expected , or }} after label {name}")


def family_of(sample_name, families):
    for suffix in ("_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix):
            base = sample_name[: -len(suffix)]
            if base in families and families[base].type == "histogram":
                return base
    return sample_name


def parse(text):
    if text and not text.endswith("\n"):
        raise FormatError("the exposition must end with a newline")
    families = {}
    finished = set()  # families whose samples are over (another family's started)
    current = None
    seen_series = set()
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        where = f"line {number} ({line[:120]!r})"
        if line == "":
            raise FormatError(f"{where}: empty line")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.fullmatch(name):
                    raise FormatError(f"{where}: bad metric name")
                family = families.setdefault(name, Family(name))
                if name in finished or (current is not None and current != name and family.samples):
                    raise FormatError(f"{where}: {parts[1]} for {name} after its samples")
                if parts[1] == "HELP":
                    if family.help is not None:
                        raise FormatError(f"{where}: second HELP for {name}")
                    family.help = parts[3] if len(parts) > 3 else ""
                else:
                    if family.type is not None:
                        raise FormatError(f"{where}: second TYPE for {name}")
                    if family.samples:
                        raise FormatError(f"{where}: TYPE after samples of {name}")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise FormatError(f"{where}: unknown type")
                    family.type = parts[3]
                if current is not None and current != name:
                    finished.add(current)
                current = name
            continue
        match = METRIC_NAME.match(line)
        if not match:
            raise FormatError(f"{where}: bad metric name")
        sample_name = match.group(0)
        position = match.end()
        labels = {}
        if position < len(line) and line[position] == "{":
            labels, position = parse_labels(line, position, where)
        rest = line[position:]
        if not rest.startswith(" "):
            raise FormatError(f"{where}: expected a space before the value")
        fields = rest[1:].split(" ")
        if len(fields) not in (1, 2):
            raise FormatError(f"{where}: expected value [timestamp]")
        value = parse_float(fields[0], where)
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise FormatError(f"{where}: bad timestamp")
        name = family_of(sample_name, families)
        family = families.setdefault(name, Family(name))
        if name in finished:
            raise FormatError(f"{where}: samples of {name} are split by another family")
        if family.type is None:
            raise FormatError(f"{where}: sample of {name} before its TYPE line")
        if current is not None and current != name:
            finished.add(current)
        current = name
        key = (sample_name, tuple(sorted(labels.items())))
        if key in seen_series:
            raise FormatError(f"{where}: duplicate series")
        seen_series.add(key)
        if family.type == "counter" and (value < 0 or math.isnan(value)):
            raise FormatError(f"{where}: negative counter")
        if family.type == "histogram":
            if sample_name == name + "_bucket":
                if "le" not in labels:
                    raise FormatError(f"{where}: bucket without le")
                parse_float(labels["le"], where)
            elif sample_name not in (name + "_sum", name + "_count"):
                raise FormatError(f"{where}: {sample_name} is not part of histogram {name}")
            elif "le" in labels:
                raise FormatError(f"{where}: le on {sample_name}")
        family.samples.append((sample_name, labels, value))
    for family in families.values():
        if family.type is None:
            raise FormatError(f"{family.name} has HELP but no TYPE")
        if family.type == "histogram":
            check_histogram(family)
    return families


def check_histogram(family):
    series = {}
    for name, labels, value in family.samples:
        base = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        entry = series.setdefault(base, {"buckets": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            entry["buckets"].append((parse_float(labels["le"], family.name), value))
        elif name.endswith("_sum"):
            entry["sum"] = value
        else:
            entry["count"] = value
    for base, entry in series.items():
        where = f"histogram {family.name}{dict(base)}"
        buckets = entry["buckets"]
        if not buckets or buckets[-1][0] != math.inf:
            raise FormatError(f"{where}: buckets do not end in le=\"+Inf\"")
        for (le_a, count_a), (le_b, count_b) in zip(buckets, buckets[1:]):
            if not le_a < le_b:
                raise FormatError(f"{where}: le not increasing ({le_a} then {le_b})")
            if count_b < count_a:
                raise FormatError(f"{where}: bucket counts decrease")
        if entry["count"] is None or entry["sum"] is None:
            raise FormatError(f"{where}: _sum or _count missing")
        if entry["count"] != buckets[-1][1]:
            raise FormatError(f"{where}: _count {entry['count']} differs from the +Inf bucket {buckets[-1][1]}")


def documented_names(markdown):
    """Metric names in the reference table of docs/operations.md: rows starting with | `name` |."""
    return set(re.findall(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|", markdown, re.MULTILINE))
