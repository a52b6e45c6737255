#!/usr/bin/env python3
"""Per-binary test counts for CI: every test binary `cargo nextest list` knows, with how
many of its tests ran (passed or failed) in the JUnit report of the run. Exits non-zero,
naming them, when a binary ran no tests: a suite that silently runs nothing is a failure.

    test-counts.py LIST_JSON JUNIT_XML
"""
import json
import sys
import xml.etree.ElementTree as ET


def main(list_json: str, junit_xml: str) -> int:
    with open(list_json) as f:
        listed = json.load(f)["rust-suites"]
    ran: dict[str, int] = {}
    for suite in ET.parse(junit_xml).getroot().iter("testsuite"):
        name = suite.get("name", "")
        cases = [c for c in suite.iter("testcase") if c.find("skipped") is None]
        ran[name] = ran.get(name, 0) + len(cases)
    width = max(len(b) for b in listed)
    print(f"{'test binary'.ljust(width)}  ran  listed")
    empty = []
    for binary in sorted(listed):
        count = ran.get(binary, 0)
        total = len(listed[binary].get("testcases", {}))
        print(f"{binary.ljust(width)}  {count:>3}  {total:>6}")
        if count == 0:
            empty.append(binary)
    print(f"{'total'.ljust(width)}  {sum(ran.get(b, 0) for b in listed):>3}")
    if empty:
        print(f"CI: these test binaries ran no tests: {', '.join(empty)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
