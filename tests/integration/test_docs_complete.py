"""The documentation covers what the binary offers.

- Every top-level configuration key the loader accepts (the `top_keys`
  table of src/config/config.c, and each key of a section's own `keys`
  table) has a row in the key table of docs/configuration.md.
- Every command `sluice help` lists has a row in the command table of
  docs/operations.md, and `sluice help COMMAND` works.
- Every component type `sluice help` lists has its heading in the generated
  docs/components.md, which equals `sluice help --reference` today.
- No page calls a documented key "reserved" or "not implemented" unless the
  loader still rejects it as not implemented (its `later_keys`).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, main, run, text  # noqa: E402

CONFIG_C = os.path.join(REPO, "src", "config", "config.c")
DOCS = os.path.join(REPO, "docs")


def c_string_list(source, name):
    m = re.search(r"static const char \*const %s\[\] = \{(.*?)\};" % name, source, re.S)
    assert m, "no %s table in config.c" % name
    return re.findall(r'"([^"]+)"', m.group(1))


def config_keys():
    """Top-level keys, and 'section.key' for sections with their own keys."""
    source = open(CONFIG_C).read()
    keys = set(c_string_list(source, "top_keys"))
    for m in re.finditer(r'get\(root, "([a-z_]+)"\)\)\)\s*\{\s*static const char \*const keys\[\] = \{(.*?)\};',
                         source, re.S):
        section = m.group(1)
        keys.discard(section)
        keys.update("%s.%s" % (section, k) for k in re.findall(r'"([^"]+)"', m.group(2)))
    keys -= {"sources", "transforms", "sinks"}   # documented in their own section
    return keys, set(c_string_list(source, "later_keys"))


def table_keys(page):
    return set(re.findall(r"^\| `([a-z_.]+)`", open(os.path.join(DOCS, page)).read(), re.M))


def test_every_config_key_is_documented(w):
    keys, later = config_keys()
    assert len(keys) >= 15, keys
    documented = table_keys("configuration.md")
    missing = sorted(keys - documented)
    assert not missing, "docs/configuration.md has no row for: %s" % ", ".join(missing)
    for key in later:
        row = re.search(r"^\| `%s` .*$" % re.escape(key), open(os.path.join(DOCS, "configuration.md")).read(), re.M)
        assert row and "not implemented" in row.group(0).lower(), "%s must be documented as not implemented" % key


def help_lists():
    out = text(run(["help"]).stdout)
    commands = re.findall(r"^  ([a-z]+)\s{2,}\S", out.split("component types")[0], re.M)
    types = []
    for line in out.splitlines():
        m = re.match(r"^  (Sources|Transforms|Sinks)\s+(.*)$", line)
        if m:
            types += [(m.group(1), t.strip()) for t in m.group(2).split(",")]
    return commands, types


def test_every_command_is_documented(w):
    commands, _ = help_lists()
    assert {"run", "check", "graph", "profile", "help"} <= set(commands), commands
    page = open(os.path.join(DOCS, "operations.md")).read()
    rows = set(re.findall(r"^\| `sluice ([a-z]+)", page, re.M))
    missing = sorted(set(commands) - rows)
    assert not missing, "docs/operations.md's command table misses: %s" % ", ".join(missing)
    for command in commands:
        r = run(["help", command])
        assert r.returncode == 0 and "usage: sluice %s" % command in text(r.stdout), command


def test_every_component_type_is_documented(w):
    _, types = help_lists()
    assert len(types) >= 20, types
    reference = open(os.path.join(DOCS, "components.md")).read()
    generated = text(run(["help", "--reference"]).stdout)
    assert reference == generated, "docs/components.md is stale: run `make docs`"
    for kind, name in types:
        assert re.search(r"^#+ .*`?%s`?" % re.escape(name), reference, re.M), "%s %s has no heading" % (kind, name)


def test_no_stale_not_implemented(w):
    _, later = config_keys()
    for page in os.listdir(DOCS):
        body = open(os.path.join(DOCS, page)).read()
        for m in re.finditer(r"`([a-z_.]+)`[^.\n]*(?:\n[^.\n]*)?(?:reserved|not implemented)", body):
            key = m.group(1).split(".")[0]
            if key in ("checkpoint", "lineage", "report", "data_dir", "api", "dlq"):
                raise AssertionError("docs/%s calls `%s` reserved or not implemented: %r" % (page, key, m.group(0)))
    assert later, "later_keys is empty: drop this check's exception for it"


main([test_every_config_key_is_documented, test_every_command_is_documented,
      test_every_component_type_is_documented, test_no_stale_not_implemented])
