#!/usr/bin/env python3
"""Opens a Quarry report in headless Chromium and times what a responder does first: load the
page, filter the notables by the first row's host, sort them, open one evidence panel. Prints the times in ms.
Usage: report_open.py REPORT.html"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def main():
    path = sys.argv[1]
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        start = time.monotonic()
        driver.get("file://" + path)
        driver.find_element("css selector", "#notables-table tbody tr.notable")
        print(f"load (until the first notables row exists): {(time.monotonic() - start) * 1000:.0f} ms")
        timings = driver.execute_script("""
          const t = {};
          const input = document.getElementById('notables-filter');
          let s = performance.now();
          const term = document.querySelector('#notables-table tbody tr.notable td.dest').textContent;
          t.term = term;
          input.value = term; input.dispatchEvent(new Event('input'));
          t.filter = performance.now() - s;
          t.filtered = document.getElementById('notables-count').textContent;
          input.value = ''; input.dispatchEvent(new Event('input'));
          s = performance.now();
          document.querySelector('#notables-table th[data-key="dest"]').click();
          t.sort = performance.now() - s;
          s = performance.now();
          document.querySelector('#notables-table button.evidence-toggle').click();
          t.evidence = performance.now() - s;
          t.rows = document.querySelectorAll('#notables-table tbody tr.notable').length;
          t.count = document.getElementById('notables-count').textContent;
          return t;""")
        print(f"filter {timings['term']!r}: {timings['filter']:.0f} ms ({timings['filtered']})")
        print(f"sort by dest: {timings['sort']:.0f} ms")
        print(f"open evidence: {timings['evidence']:.0f} ms")
        print(f"rows drawn: {timings['rows']} ({timings['count']})")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
