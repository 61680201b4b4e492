"""Make Great Expectations' Data Docs render with no network: local copies of the CDN assets.

GX 1.24 pages load Bootstrap, jQuery, bootstrap-table and Font Awesome from public CDNs;
offline (as on these machines, and in most secure enclaves) they render blank and the index
lists nothing. After each ``build_data_docs`` this copies ``vendor/`` into the site and
rewrites every page's CDN references to relative paths; vega (charts the gate never draws)
and the optional dark theme are removed.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "vendor"
SITE_DIR = "ibet-vendor"  #: where the assets go inside the Data Docs site

#: CDN URL -> vendored file (relative to vendor/); None removes the tag.
ASSETS: dict[str, str | None] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery-3.7.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper-1.12.9.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap-4.3.1.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap-4.3.1.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table-1.19.1.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "css/bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "css/bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "js/bootstrap-table-filter-control-1.19.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "css/bootstrap-datepicker-1.9.0.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "js/bootstrap-datepicker-1.9.0.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-6.6.0.all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": None,
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/vega-embed@6": None,
}
_TAG = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="(https?://[^"]+)"[^>]*>(?:\s*</script>)?', re.I)
#: GX's logo, fetched from S3 with the data context's id in the query string (a beacon): use the local copy.
_WEB_ASSET = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/([\w.-]+)(?:\?[^\"')\s]*)?")


def localize(site: Path, since: float = 0.0) -> list[str]:
    """Rewrite every page under ``site`` (written at or after ``since``, a timestamp: the pages a gate run
    rendered) to use the vendored assets; return CDN URLs left unknown."""
    if not site.is_dir():
        return []
    target = site / SITE_DIR
    shutil.copytree(VENDOR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    for p in [target, *target.rglob("*")]:  # copied with the repository's modes: make them need-to-know
        os.chmod(p, 0o750 if p.is_dir() else 0o640)
    unknown: set[str] = set()
    for page in site.rglob("*.html"):
        if page.stat().st_mtime < since:
            continue
        text = page.read_text(encoding="utf-8")
        prefix = os.path.relpath(target, page.parent).replace(os.sep, "/")

        def swap(m: re.Match[str]) -> str:
            url = m.group(1)
            if url not in ASSETS:
                unknown.add(url)
                return m.group(0)
            local = ASSETS[url]
            if local is None:
                return ""
            tag = re.sub(r'\s+(?:integrity|crossorigin)="[^"]*"', "", m.group(0))
            return tag.replace(url, f"{prefix}/{local}")

        images = os.path.relpath(site / "static" / "images", page.parent).replace(os.sep, "/")
        new = _WEB_ASSET.sub(lambda m: _local_image(site, images, m.group(1)), _TAG.sub(swap, text))
        if new != text:
            page.write_text(new, encoding="utf-8")
    for css in site.rglob("*.css"):
        if css.stat().st_mtime < since:
            continue
        text = css.read_text(encoding="utf-8")
        new = _WEB_ASSET.sub("about:blank", text)  # the dark-theme logo: no background image offline
        if new != text:
            css.write_text(new, encoding="utf-8")
    return sorted(unknown)


def _local_image(site: Path, images: str, name: str) -> str:
    return f"{images}/{name}" if (site / "static" / "images" / name).exists() else f"{images}/logo-long.png"
