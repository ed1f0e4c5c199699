#!/usr/bin/python3
"""Real-browser test of `quarry report`: the HTML report in headless Chromium.

Usage: report_browser_test.py QUARRY_BINARY FIXTURES_DIR OUT_DIR

Builds a case from FIXTURES_DIR/hostile and the at.exe detection folder, runs `quarry detect`
and `quarry report`, opens OUT_DIR/report.html in headless Chromium through chromedriver and
checks the page: title, the notables table (row count, sorting, filtering, evidence panels),
that the hostile values from fixtures/hostile show as text and run as no script, and that the
page makes no request other than file: and data: URLs. Leaves OUT_DIR/case.db,
OUT_DIR/report.html and a screenshot OUT_DIR/report.png (OUT_DIR/report-failure.png when a
check fails after the page opened).

Needs Debian's chromium, chromium-driver and python3-selenium; run it with /usr/bin/python3.
Exit status: 0 every check passed, 1 a check failed, 2 usage error.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
import time

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox does not start
    "--disable-gpu",
    "--disable-background-networking",
    "--window-size=1400,1000",
]
AT_DETECTION_DIR = os.path.join("detections", "scheduled_task_creation_on_remote_endpoint_using_at")
WAIT_SECONDS = 15
PAGE_SIZE = 100
SORT_KEYS = ["rule", "dest", "user", "process", "parent", "count", "first", "last", "score"]
SECTIONS = ["summary", "risk", "notables", "timeline", "attack", "detections"]

# Hostile values of fixtures/hostile/sysmon_hostile.xml, as they must read on the page.
HOSTILE_COMPUTER = "</script><script>window.__pwned=3</script>"
HOSTILE_TEXTS = [
    '<script>window.__pwned=1</script>',  # at.exe command line (record 7002)
    "CORP\\<img src=x onerror=window.__pwned=2>",  # User (7004)
    HOSTILE_COMPUTER,  # Computer, so dest (7004)
    "javascript:window.__pwned=4",  # parent command line (7005, 7006)
    '" onmouseover="window.__pwned=5',  # parent command line (7005, 7006)
    "'];window.__pwned=6;//",  # command line (7006), followed by U+2028
    "<!--<script>",  # command line (7006)
]
U2028_VALUE = "'];window.__pwned=6;//\u2028<!--<script>"
FILTER_HOST = "wks-fin-14"  # four notables in the at.exe detection folder
CONTEXT_HOST = "wks-red-07.hostile.example"  # at.exe 7002: parent cmd.exe 7001, child conhost 7003


class Fail(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Fail(message)


def run_quarry(quarry, args):
    proc = subprocess.run([quarry] + args, capture_output=True, text=True, encoding="utf-8")
    if proc.returncode != 0:
        raise Fail(f"quarry {' '.join(args)} exited {proc.returncode}\n"
                   f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def query_scalar(quarry, db, sql, params=()):
    args = ["query", "--db", db, "--format", "csv"]
    for p in params:
        args += ["--param", p]
    out = run_quarry(quarry, args + [sql]).stdout
    rows = list(csv.reader(io.StringIO(out)))
    check(len(rows) == 2 and len(rows[1]) == 1, f"unexpected output of query {sql!r}: {out!r}")
    return rows[1][0]


def build_case(quarry, fixtures, out_dir):
    db = os.path.join(out_dir, "case.db")
    report = os.path.join(out_dir, "report.html")
    for path in (db, db + "-wal", db + "-shm", db + "-journal", report):
        if os.path.exists(path):
            os.remove(path)
    hostile = os.path.join(fixtures, "hostile")
    at_dir = os.path.join(fixtures, AT_DETECTION_DIR)
    for d in (hostile, at_dir):
        check(os.path.isdir(d), f"fixture folder missing: {d}")
    run_quarry(quarry, ["ingest", "--db", db, hostile, at_dir])
    warnings = int(query_scalar(quarry, db, "SELECT count(*) FROM ingest_warnings"))
    check(warnings == 0, f"ingest of the fixtures left {warnings} warnings (expected none)")
    run_quarry(quarry, ["detect", "--db", db])
    notables = int(query_scalar(quarry, db, "SELECT count(*) FROM notables"))
    check(notables > 0, "quarry detect raised no notables over the fixtures")
    hostile_notables = int(query_scalar(quarry, db, "SELECT count(*) FROM notables WHERE dest = :d",
                                        [f"d={HOSTILE_COMPUTER}"]))
    check(hostile_notables == 1,
          f"expected 1 notable whose dest is the hostile Computer, the case has {hostile_notables}")
    run_quarry(quarry, ["report", "--db", db, "-o", report])
    check(os.path.isfile(report) and os.path.getsize(report) > 0,
          f"quarry report wrote no file at {report}")
    return db, report, notables


# --- browser -------------------------------------------------------------------------------

def start_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    started = time.monotonic()
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    print(f"chromium {driver.capabilities.get('browserVersion', '?')} started in "
          f"{time.monotonic() - started:.1f}s")
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


def wait(driver, condition, message, timeout=WAIT_SECONDS):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        last = getattr(condition, "last", None)
        raise Fail(f"{message} (waited {timeout}s)" + (f"; last seen: {last}" if last else ""))


# Shared JS helpers, prefixed to the scripts below.
JS_HELPERS = r"""
const isShown = (el) => {
  if (!el || !el.isConnected) return false;
  const st = getComputedStyle(el);
  if (st.visibility === 'hidden' || st.display === 'none') return false;
  return el.getClientRects().length > 0;
};
const rows = () => Array.from(document.querySelectorAll('#notables-table tbody tr.notable'));
const shownRows = () => rows().filter(isShown);
const cellText = (row, cls) => { const c = row.querySelector('td.' + cls); return c ? c.innerText.trim() : null; };
const evidenceRowOf = (row) => {
  for (let n = row.nextElementSibling; n; n = n.nextElementSibling) {
    if (n.matches('tr.notable')) return null;
    if (n.matches('tr.evidence-row')) return n;
  }
  return null;
};
"""


def js(driver, body, *args):
    return driver.execute_script(JS_HELPERS + body, *args)


def shown_row_count(driver):
    return js(driver, "return shownRows().length;")


def check_structure(driver, notables):
    title = driver.title
    check("Quarry" in title, f"page title {title!r} does not contain 'Quarry'")
    missing = js(driver, "return arguments[0].filter(id => !document.querySelector('section#' + id));",
                 SECTIONS)
    check(not missing, f"sections missing: {missing}")
    keys = js(driver, "return Array.from(document.querySelectorAll('#notables-table thead th[data-key]'))"
                      ".map(th => th.dataset.key);")
    check(all(k in keys for k in SORT_KEYS),
          f"#notables-table thead th[data-key] keys are {keys}, expected all of {SORT_KEYS}")
    check(js(driver, "return !!document.querySelector('input#notables-filter');"),
          "input#notables-filter missing")

    def rows_rendered(d):
        n = shown_row_count(d)
        rows_rendered.last = f"{n} visible rows"
        return n > 0
    wait(driver, rows_rendered, "no visible #notables-table tbody tr.notable rows")
    shown = shown_row_count(driver)
    total_in_dom = js(driver, "return rows().length;")
    count_text = js(driver, "const c = document.querySelector('#notables-count'); "
                            "return c ? c.innerText.trim() : null;")
    check(count_text is not None, "#notables-count missing")
    numbers = [int(x) for x in re.findall(r"\d+", count_text)]
    if notables <= PAGE_SIZE:
        check(shown == notables,
              f"{shown} visible notable rows, the case has {notables} notables "
              f"({total_in_dom} tr.notable in the DOM)")
        check(numbers and numbers[0] == notables and re.search(r"notables?\b", count_text),
              f"#notables-count reads {count_text!r}, expected '{notables} notables'")
    else:
        check(shown == PAGE_SIZE, f"{shown} visible rows on the first page, expected {PAGE_SIZE}")
        check(notables in numbers, f"#notables-count reads {count_text!r}, does not name {notables}")
        check(js(driver, "return !!document.querySelector('#notables-pager button.page-next');"),
              "paginated but #notables-pager button.page-next missing")
    return shown, count_text


SORT_CHECK_JS = r"""
const key = arguments[0], dir = arguments[1];
const vals = shownRows().map(r => cellText(r, key));
if (vals.some(v => v === null)) return {ok: false, vals, why: 'a row has no td.' + key};
const coll = new Intl.Collator(undefined, {numeric: true});
const cmps = {
  codeunit: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  nocase: (a, b) => { a = a.toLowerCase(); b = b.toLowerCase(); return a < b ? -1 : a > b ? 1 : 0; },
  localeCompare: (a, b) => a.localeCompare(b),
  collatorNumeric: (a, b) => coll.compare(a, b),
};
const sign = dir === 'asc' ? 1 : -1;
const under = Object.keys(cmps).filter(
    name => vals.every((v, i) => i === 0 || sign * cmps[name](vals[i - 1], v) <= 0));
return {ok: under.length > 0, under, vals};
"""


def check_sorting(driver, key="dest"):
    header = driver.find_element("css selector", f'#notables-table th[data-key="{key}"]')
    seen = {}
    for direction in ("asc", "desc"):
        header.click()

        def sorted_now(d, direction=direction):
            r = js(d, SORT_CHECK_JS, key, direction)
            sorted_now.last = json.dumps(r.get("vals"), ensure_ascii=True)[:600]
            if r["ok"]:
                seen[direction] = r
            return r["ok"]
        wait(driver, sorted_now, f"after clicking th[data-key={key}] "
             f"({'first' if direction == 'asc' else 'second'} click) td.{key} is not in "
             f"{'ascending' if direction == 'asc' else 'descending'} order")
    asc, desc = seen["asc"]["vals"], seen["desc"]["vals"]
    check(len(set(asc)) < 2 or asc != desc, f"sorting by {key} did not change the order: {asc}")
    check(sorted(asc) == sorted(desc), "sorting changed the set of rows")
    print(f"sorting by {key}: ascending and descending (order agrees with "
          f"{', '.join(seen['asc']['under'])})")


def set_filter(driver, text):
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("css selector", "input#notables-filter")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


# The report may hide rows or draw only the matching ones: compare the visible rows' texts.
FILTER_EXPECT_JS = r"""
const q = arguments[0].toLowerCase();
return shownRows().map(r => r.innerText).filter(t => t.toLowerCase().includes(q)).sort();
"""

FILTER_STATE_JS = r"""
const q = arguments[0].toLowerCase();
return {shown: shownRows().map(r => r.innerText).sort(),
        bad: shownRows().filter(r => !r.innerText.toLowerCase().includes(q)).map(r => r.innerText.slice(0, 200)),
        count: (document.querySelector('#notables-count') || {}).innerText};
"""


def check_filter(driver, text, total_shown, expect_some=True):
    # Which rows hold the text, read before filtering (rows hidden by the filter have no innerText).
    expected = js(driver, FILTER_EXPECT_JS, text)
    n_expected = len(expected)
    if expect_some:
        check(0 < n_expected < total_shown,
              f"fixture problem: {n_expected} of {total_shown} rows contain {text!r}")
    set_filter(driver, text)

    def filtered(d):
        st = js(d, FILTER_STATE_JS, text)
        filtered.last = f"{len(st['shown'])} rows visible, #notables-count {st['count']!r}"
        return st["shown"] == expected and not st["bad"]
    wait(driver, filtered, f"typing {text!r} into #notables-filter did not leave exactly the "
         f"{n_expected} rows containing it")
    count_text = js(driver, "return document.querySelector('#notables-count').innerText.trim();")
    check(re.search(rf"\b{n_expected}\b.*\b{total_shown}\b", count_text),
          f"filtered by {text!r}: #notables-count reads {count_text!r}, expected "
          f"'{n_expected} of {total_shown} notables'")
    set_filter(driver, "")

    def restored(d):
        n = shown_row_count(d)
        restored.last = f"{n} rows visible"
        return n == total_shown
    wait(driver, restored, f"clearing #notables-filter did not restore the {total_shown} rows")
    print(f"filter {text!r}: {n_expected} of {total_shown} rows, then restored")


EVIDENCE_STATE_JS = r"""
const row = shownRows()[arguments[0]];
const ev = row && evidenceRowOf(row);
const panel = ev && ev.querySelector('div.evidence');
return {hasRow: !!ev, shown: !!panel && isShown(ev) && isShown(panel),
        raws: panel ? Array.from(panel.querySelectorAll('pre.raw')).map(p => p.textContent) : [],
        rawShown: panel ? Array.from(panel.querySelectorAll('pre.raw')).map(isShown) : [],
        context: panel ? Array.from(panel.querySelectorAll('div.context')).map(c => c.innerText) : [],
        text: panel ? panel.innerText : ''};
"""


def toggle_evidence(driver, index, want_shown):
    buttons = js(driver, "return shownRows().map(r => r.querySelector('button.evidence-toggle'));")
    check(index < len(buttons) and buttons[index] is not None,
          f"row {index + 1} has no button.evidence-toggle")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", buttons[index])
    buttons[index].click()

    def state_ok(d):
        st = js(d, EVIDENCE_STATE_JS, index)
        state_ok.last = f"evidence row present: {st['hasRow']}, visible: {st['shown']}"
        state_ok.st = st
        return st["shown"] == want_shown
    wait(driver, state_ok, f"clicking row {index + 1}'s button.evidence-toggle did not "
         f"{'show' if want_shown else 'hide'} its .evidence panel")
    return state_ok.st


def row_index_with(driver, cls, value):
    idx = js(driver, "return shownRows().findIndex(r => cellText(r, arguments[0]) === arguments[1]);",
             cls, value)
    check(idx >= 0, f"no visible notable row with td.{cls} = {value!r}")
    return idx


def check_evidence(driver):
    # The first row: its panel opens, holds the raw records as text, and closes again.
    st = toggle_evidence(driver, 0, True)
    check(st["raws"], "the first row's .evidence has no pre.raw")
    check(all(st["rawShown"]), "a pre.raw in the first row's open .evidence is not visible")
    check(all(r.startswith("<Event") or r.startswith("{") for r in st["raws"]),
          f"the first row's pre.raw does not start with '<Event' (or '{{' for JSON lines): "
          f"{[r[:80] for r in st['raws']]}")
    toggle_evidence(driver, 0, False)

    # A Sysmon row: raw XML shown verbatim as text (its own escaping intact), context with
    # the parent cmd.exe and the child conhost.exe.
    idx = row_index_with(driver, "dest", CONTEXT_HOST)
    st = toggle_evidence(driver, idx, True)
    check(st["raws"] and st["raws"][0].startswith("<Event"),
          f"pre.raw of the {CONTEXT_HOST} notable does not start with '<Event': "
          f"{[r[:80] for r in st['raws']]}")
    check(any("&lt;script&gt;window.__pwned=1&lt;/script&gt;" in r for r in st["raws"]),
          "pre.raw of record 7002 does not show the XML as written in the file "
          "(expected the text '&lt;script&gt;window.__pwned=1&lt;/script&gt;')")
    check("sysmon_hostile.xml" in st["text"],
          "the evidence panel does not name the file sysmon_hostile.xml")
    check(re.search(r"\b[0-9a-fA-F]{64}\b", st["text"]), "the evidence panel shows no sha256")
    check(st["context"], f"the {CONTEXT_HOST} notable's evidence has no div.context")
    ctx = "\n".join(st["context"]).lower()
    check("cmd.exe" in ctx, f"div.context does not show the parent cmd.exe: {ctx[:300]!r}")
    check("conhost.exe" in ctx, f"div.context does not show the child conhost.exe: {ctx[:300]!r}")
    toggle_evidence(driver, idx, False)
    print("evidence: panels toggle; raw record shown as text; file, sha256, parent and child shown")


SET_ALL_EVIDENCE_JS = r"""
const want = arguments[0];
shownRows().forEach(r => {
  const ev = evidenceRowOf(r), panel = ev && ev.querySelector('div.evidence');
  const open = !!panel && isShown(ev) && isShown(panel);
  if (open !== want) r.querySelector('button.evidence-toggle').click();
});
"""

ALL_EVIDENCE_STATE_JS = r"""
return shownRows().map(r => {
  const ev = evidenceRowOf(r), panel = ev && ev.querySelector('div.evidence');
  return !!panel && isShown(ev) && isShown(panel);
});
"""


def set_all_evidence(driver, want_shown):
    """Opens (or closes) every visible row's evidence panel, clicking the buttons in one script."""
    js(driver, SET_ALL_EVIDENCE_JS, want_shown)

    def all_set(d):
        st = js(d, ALL_EVIDENCE_STATE_JS)
        all_set.last = f"panels open: {st}"
        return all(s == want_shown for s in st)
    wait(driver, all_set, f"clicking every button.evidence-toggle did not "
         f"{'open' if want_shown else 'close'} every .evidence panel")
    return shown_row_count(driver)


INJECTION_JS = r"""
const found = [];
if (document.querySelector('img[src="x"]')) found.push('an <img src=x> element');
document.querySelectorAll('*').forEach(el => {
  for (const a of el.attributes) {
    if (/^on/i.test(a.name) && /__pwned/.test(a.value)) found.push(`${el.tagName} ${a.name}="${a.value}"`);
    if (/^(href|src|action|formaction)$/i.test(a.name) && /^\s*javascript:/i.test(a.value))
      found.push(`${el.tagName} ${a.name}="${a.value}"`);
  }
});
document.querySelectorAll('script').forEach(s => {
  if (/^\s*window\.__pwned/.test(s.textContent)) found.push('a <script> whose code is ' + s.textContent.slice(0, 60));
});
return found;
"""


def check_pwned(driver, when):
    kind = driver.execute_script("return typeof window.__pwned")
    value = driver.execute_script("return String(window.__pwned)")
    check(kind == "undefined", f"{when}: window.__pwned is {kind} {value}: a hostile value ran as script")


def check_hostile(driver):
    opened = set_all_evidence(driver, True)
    text = driver.execute_script("return document.body.innerText;")
    missing = [h for h in HOSTILE_TEXTS if h not in text]
    check(not missing, "hostile values not visible as text on the page (with all "
          f"{opened} evidence panels open): {missing}")
    body_text = driver.execute_script("return document.body.textContent;")
    check(U2028_VALUE in body_text or U2028_VALUE.replace("\u2028", "\\u2028") in text
          or U2028_VALUE.replace("\u2028", "U+2028") in text,
          "the command line with U+2028 (record 7006) is not on the page intact")
    injected = js(driver, INJECTION_JS)
    check(not injected, f"hostile values became markup: {injected}")
    # Hover over every cell and raw record: an injected onmouseover would fire here.
    driver.execute_script(
        "document.querySelectorAll('td, pre, div.context *').forEach(el => "
        "['mouseover', 'mouseenter'].forEach(t => el.dispatchEvent(new MouseEvent(t, {bubbles: true}))));")
    # Filtering by a hostile value must match it as text too.
    set_filter(driver, HOSTILE_COMPUTER)

    def only_hostile(d):
        dests = js(d, "return shownRows().map(r => cellText(r, 'dest'));")
        only_hostile.last = f"visible dests {dests}"
        return dests == [HOSTILE_COMPUTER]
    wait(driver, only_hostile, f"filtering by {HOSTILE_COMPUTER!r} does not leave its one row")
    set_filter(driver, "")
    check_pwned(driver, "after opening every evidence panel, hovering and filtering")
    print(f"hostile values: {len(HOSTILE_TEXTS)} shown as text, none ran")


def check_network(driver, page_url):
    requests, sockets = [], []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            requests.append(msg["params"]["request"]["url"])
        elif msg.get("method") == "Network.webSocketCreated":
            sockets.append(msg["params"]["url"])
    check(any(u.split("#")[0] == page_url for u in requests),
          f"the performance log shows no request for the page itself ({page_url}); "
          f"network logging is not working. Requests: {requests[:10]}")
    outside = [u for u in requests if not (u.startswith("file://") or u.startswith("data:"))]
    check(not outside and not sockets,
          f"the report made network requests: {(outside + sockets)[:20]}")
    print(f"network: {len(requests)} requests, all file: or data:")


def check_console(driver):
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    check(not errors, "errors in the browser console: " +
          "; ".join(e.get("message", "")[:300] for e in errors[:5]))


def screenshot(driver, path, max_height=16000):
    """The whole page (up to max_height CSS pixels), through the DevTools protocol."""
    import base64

    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    width = max(size["width"], driver.execute_script("return window.innerWidth;"))
    clip = {"x": 0, "y": 0, "width": width, "height": min(size["height"], max_height), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "captureBeyondViewport": True, "clip": clip})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def run_browser_checks(driver, report, notables, out_dir):
    page_url = "file://" + os.path.abspath(report)
    started = time.monotonic()
    driver.get(page_url)
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete",
         "the page did not finish loading")
    print(f"page loaded in {time.monotonic() - started:.1f}s")
    check_pwned(driver, "after load")
    total_shown, count_text = check_structure(driver, notables)
    print(f"notables: {total_shown} rows, #notables-count {count_text!r}, case has {notables}")
    check_sorting(driver, "dest")
    check_filter(driver, FILTER_HOST, total_shown)
    check_filter(driver, "<script>", total_shown)
    check_evidence(driver)
    check_hostile(driver)
    # Close every panel, open the first one for the picture.
    set_all_evidence(driver, False)
    toggle_evidence(driver, 0, True)
    check_pwned(driver, "at the end")
    check_network(driver, page_url)
    check_console(driver)
    shot = os.path.join(out_dir, "report.png")
    screenshot(driver, shot)
    print(f"screenshot: {shot}")


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    quarry, fixtures, out_dir = os.path.abspath(argv[1]), os.path.abspath(argv[2]), os.path.abspath(argv[3])
    os.makedirs(out_dir, exist_ok=True)
    driver = None
    try:
        check(os.access(quarry, os.X_OK), f"not an executable: {quarry}")
        for path in (CHROMEDRIVER, CHROMIUM):
            check(os.access(path, os.X_OK), f"{path} missing: apt-get install chromium chromium-driver")
        try:
            import selenium  # noqa: F401
        except ImportError:
            raise Fail("selenium missing: apt-get install python3-selenium and run with /usr/bin/python3")
        db, report, notables = build_case(quarry, fixtures, out_dir)
        print(f"case {db}: {notables} notables; report {report} ({os.path.getsize(report)} bytes)")
        driver = start_browser()
        run_browser_checks(driver, report, notables, out_dir)
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        if driver is not None:
            try:
                driver.save_screenshot(os.path.join(out_dir, "report-failure.png"))
            except Exception:  # the browser may be gone
                pass
        return 1
    except Exception as e:  # WebDriver errors, a browser that would not start, ...
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            driver.quit()
    print("PASS: report browser test")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
