#!/usr/bin/env python3
"""Runs mbed-cloud-sdk 2.2.0 scenarios against a running iamd.

    IAMD_SDK_HOST=http://127.0.0.1:PORT IAMD_SDK_API_KEY=ak_... python run_scenarios.py [AREA ...]

AREA is one of: account iam tenants certificates branding signin (default: all, in that order),
or AREA.SCENARIO for one scenario of an area (e.g. branding.theme_colors).
Prints one PASS/FAIL line per scenario (tracebacks go to stderr) and ends with the line
"N passed, M failed"; exits non-zero if anything failed.
"""
import importlib
import os
import sys
import time
import traceback

AREAS = ["account", "iam", "tenants", "certificates", "branding", "signin"]
# Areas run only when named: they need a server in dev mode ([dev] enabled = true).
DEV_AREAS = ["dev"]


def main(argv):
    host = os.environ.get("IAMD_SDK_HOST", "").strip()
    key = os.environ.get("IAMD_SDK_API_KEY", "").strip()
    if not host or not key:
        print("IAMD_SDK_HOST and IAMD_SDK_API_KEY must be set", file=sys.stderr)
        return 2
    areas = argv or AREAS
    unknown = [a for a in areas if a.split(".", 1)[0] not in AREAS + DEV_AREAS]
    if unknown:
        print("unknown area(s) %s; choose from %s" % (" ".join(unknown), " ".join(AREAS)), file=sys.stderr)
        return 2

    # The SDK concatenates host + "/v3/..." verbatim (Foundation) so a trailing slash would give
    # "//v3"; and both interfaces read these variables when first used, so set them before import.
    host = host.rstrip("/")
    os.environ["MBED_CLOUD_SDK_HOST"] = host
    os.environ["MBED_CLOUD_SDK_API_KEY"] = key
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sdk_common

    ctx = sdk_common.Context(host, key)
    passed = failed = 0
    for selector in areas:
        area, _, only = selector.partition(".")
        try:
            scenarios = importlib.import_module("scenario_" + area).SCENARIOS
            if only:
                scenarios = [fn for fn in scenarios if fn.__name__ == only]
                if not scenarios:
                    raise LookupError("no scenario %r in area %s" % (only, area))
        except Exception:
            traceback.print_exc()
            print("FAIL %s: could not load scenario module" % area, flush=True)
            failed += 1
            continue
        for fn in scenarios:
            name = "%s.%s" % (area, fn.__name__)
            sdk_common.COLLECTOR.take()
            start = time.time()
            try:
                fn(ctx)
                # A scenario that "worked" while the SDK silently dropped fields still fails.
                logged = sdk_common.COLLECTOR.take()
                if logged:
                    raise AssertionError("SDK could not parse the server's response: " + " | ".join(logged[:3]))
            except Exception as err:
                failed += 1
                print("--- %s" % name, file=sys.stderr)
                traceback.print_exc()
                detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                print("FAIL %s (%.2fs): %s: %s" % (name, time.time() - start, type(err).__name__, detail[:300]),
                      flush=True)
            else:
                passed += 1
                print("PASS %s (%.2fs)" % (name, time.time() - start), flush=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
