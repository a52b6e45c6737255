"""The web app in a real headless Chromium (Debian's), driven by Playwright.

    e2e.py flow BASE_URL PHOTO_DIR OUT_DIR PROFILE_DIR   -> prints the gallery id
    e2e.py text BASE_URL GALLERY_ID PAYLOAD OUT_DIR PROFILE_DIR
    e2e.py cognito BASE_URL IDP_PORT CLIENT_ID SIGNING_SECRET OUT_DIR PROFILE_DIR
    e2e.py retry BASE_URL GALLERY_ID OUT_DIR PROFILE_DIR
    e2e.py share BASE_URL GALLERY_ID OUT_DIR PROFILE_DIR GUEST_PROFILE_DIR
    e2e.py you BASE_URL OUT_DIR PROFILE_DIR
    e2e.py search BASE_URL OUT_DIR PROFILE_DIR

`flow`: sign in with a name, choose the photos, watch the upload reach 100 % and the live
status reach "Done", open the gallery, step through the viewer with the keyboard, reload
and find the gallery in the list; screenshots at 390 and 1440 px wide into OUT_DIR.
`text`: the gallery again (same browser profile, so still signed in), where an album title
was set to PAYLOAD: it must show as text, create no element and run nothing.
`retry`: a failed gallery says why and offers "Try again", which organises the same
photos as a new job, follows it, and opens the new gallery.
`share`: the owner shares the gallery's first album with a password and without
downloads, and adds a member; someone not signed in (another browser profile) opens the
link: asked for the password, refused a wrong one, then shown the album with its
thumbnails and the viewer, no original and no coordinates; then signs in as the member and
finds the album under "Shared with you". The owner sees the view counted and revokes the
link, which then opens nothing.
`search`: a town typed into the search box comes back as a removable chip with the
photos taken there; removing the chip shows everything; date words with nothing found say
so; the searches made are offered back; a result opens in the viewer with its place.
`cognito`: sign in through an authorization server on IDP_PORT that speaks Cognito's
hosted-UI endpoints and checks the PKCE exchange strictly (S256 challenge, the verifier,
the redirect URI, one use per code, no client secret), then reach the API with the ID token.
Every failed check raises, and the process exits non-zero with the reason.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = os.path.join(os.path.dirname(__file__), "node_modules", "axe-core", "axe.min.js")


def accessible(page, where):
    """axe-core's WCAG 2 A/AA rules on the page as it is: no serious or critical violation."""
    page.add_script_tag(path=AXE)
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                     resultTypes: ['violations']})"""
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{where}: " + "; ".join(bad)


def browser(p, profile):
    return p.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage"],
        viewport={"width": 1440, "height": 900},
        # So axe-core can be injected; it also means CSP cannot hide an injected script
        # from the title-as-text check.
        bypass_csp=True,
    )


@contextmanager
def session(profile, extra=(), expected=()):
    """A page in Chromium with the browser profile `profile`. A script error, a console
    error or a dialog on it (an injected script would open one) fails the phase, as do
    the strings left in `extra`. `expected`: console errors the phase causes on purpose
    (Chromium logs every 4xx answer to a fetch), by a substring each; they must occur."""
    problems = []
    with sync_playwright() as p:
        context = browser(p, profile)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        # Dismissed, or the page would wait on it and the phase hang instead of failing.
        page.on("dialog", lambda d: (problems.append(f"a dialog opened: {d.message}"), d.dismiss()))
        unmet = list(expected)

        def console(m):
            if m.type != "error":
                return
            for want in unmet:
                if want in m.text:
                    unmet.remove(want)
                    return
            problems.append(f"console {m.type}: {m.text}")

        page.on("console", console)
        yield page
        context.close()
    problems += list(extra)
    problems += [f"an expected console error never came: {u}" for u in unmet]
    if problems:
        raise AssertionError("; ".join(problems))


def flow(base, photo_dir, out, profile):
    photos = sorted(
        os.path.join(photo_dir, f) for f in os.listdir(photo_dir) if f.endswith(".jpg")
    )
    not_a_photo = os.path.join(photo_dir, "notes.txt")
    with session(profile) as page:
        page.goto(base)

        # Sign in with a name (dev sign-in under `serve`).
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        accessible(page, "sign-in")
        page.get_by_label("Your name").fill("web-tester")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#who")).to_have_text("web-tester")

        # Batches as `organize` cuts them: whole outings (3 h gaps) packed into 50s, an
        # outing larger than a batch cut within itself.
        plan = page.evaluate(
            """async () => {
                const m = await import(document.querySelector('link[rel=modulepreload]').href);
                const day = 24 * 3600 * 1000, t0 = Date.UTC(2025, 4, 10, 9);
                const files = (n, start) => Array.from({length: n}, (_, i) =>
                    new File(['x'], `p${start}-${i}.jpg`, {type: 'image/jpeg', lastModified: start + i * 60000}));
                const sizes = (fs) => m.planBatches(fs).map((b) => b.length);
                return {
                    two: sizes([...files(30, t0), ...files(40, t0 + day)]),
                    packed: sizes([...files(20, t0), ...files(20, t0 + day), ...files(20, t0 + 2 * day)]),
                    long: sizes(files(120, t0)),
                    mixed: sizes([...files(10, t0), ...files(60, t0 + day), ...files(5, t0 + 2 * day)]),
                };
            }"""
        )
        assert plan == {"two": [30, 40], "packed": [40, 20], "long": [50, 50, 20], "mixed": [10, 50, 10, 5]}, plan

        # Choose the photos: per-file and total progress, then the live status.
        seen = []
        page.expose_function("noteStatus", lambda text: seen.append(text))
        page.evaluate(
            """() => new MutationObserver(() => window.noteStatus(
                   document.getElementById('job-status').textContent))
                 .observe(document.getElementById('job-status'),
                          {childList: true, characterData: true, subtree: true})"""
        )
        puts = []
        page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
        page.set_input_files("#files", photos + [not_a_photo])
        # The file the API would refuse says why at once, beside its name.
        refused = page.locator("#file-list li.rejected")
        expect(refused).to_have_count(1)
        expect(refused).to_contain_text("notes.txt")
        expect(refused).to_contain_text("not a JPEG, PNG, WebP or HEIC photo")
        expect(page.locator("#total-text")).to_have_text("100 %", timeout=60_000)
        expect(page.locator("#job-status")).to_contain_text("Done", timeout=60_000)
        expect(page.locator("#retry")).to_be_hidden()
        assert len(puts) == len(photos), f"{len(puts)} PUTs for {len(photos)} photos"
        bars = page.locator("#file-list li:not(.rejected) progress")
        assert bars.count() == len(photos), f"{bars.count()} progress bars for {len(photos)} files"
        for i in range(bars.count()):
            value, top = bars.nth(i).evaluate("b => [b.value, b.max]")
            assert value == top and top > 0, f"file {i} progress {value}/{top}"
        total = page.locator("#total").evaluate("b => [b.value, b.max]")
        assert total[0] == total[1] == sum(os.path.getsize(f) for f in photos), f"total {total}"
        assert any(s.startswith("Uploading") for s in seen), seen
        assert any(s.startswith(("Queued", "Preparing", "Asking", "Writing")) for s in seen), seen
        page.screenshot(path=os.path.join(out, "home-1440.png"), full_page=True)
        accessible(page, "home after an upload")

        # The gallery: albums with titles, thumbnails sized before they load.
        link = page.locator("#galleries a").first
        expect(link).to_be_visible()
        link.click()
        expect(page.locator("#albums h2").first).to_be_visible()
        gallery_id = page.evaluate("location.hash").rsplit("/", 1)[1]
        thumbs = page.locator("#albums img")
        assert thumbs.count() == len(photos), f"{thumbs.count()} thumbnails"
        for i in range(thumbs.count()):
            w, h = thumbs.nth(i).evaluate("i => [i.getAttribute('width'), i.getAttribute('height')]")
            assert w and h, f"thumbnail {i} has no width/height"
        # Every thumbnail is a rendition, never an original.
        page.wait_for_function(
            "() => [...document.querySelectorAll('#albums img')].slice(0, 6).every(i => i.getAttribute('src'))"
        )
        sources = thumbs.evaluate_all("imgs => imgs.map(i => i.getAttribute('src') || i.dataset.src)")
        assert all("/renditions/" in s and "thumb.jpg" in s for s in sources), sources[:2]
        page.wait_for_function(
            "() => [...document.querySelectorAll('#albums img')].slice(0, 6).every(i => i.complete && i.naturalWidth > 0)"
        )
        page.screenshot(path=os.path.join(out, "gallery-1440.png"), full_page=True)
        accessible(page, "gallery")
        page.emulate_media(color_scheme="dark")
        accessible(page, "gallery, dark")
        page.screenshot(path=os.path.join(out, "gallery-dark-1440.png"), full_page=True)
        page.emulate_media(color_scheme="light")

        # The viewer: open the first photo, → to the next, ← back, Esc closes.
        page.locator("#albums .thumb").first.click()
        viewer = page.locator("#viewer")
        expect(viewer).to_be_visible()
        expect(page.locator("#viewer-position")).to_have_text(f"1 / {len(photos)}")
        src = page.locator("#viewer-image").get_attribute("src")
        assert "preview.jpg" in src, src
        page.keyboard.press("ArrowRight")
        expect(page.locator("#viewer-position")).to_have_text(f"2 / {len(photos)}")
        page.keyboard.press("ArrowLeft")
        expect(page.locator("#viewer-position")).to_have_text(f"1 / {len(photos)}")
        # The time as the camera's clock showed it there (09:40 at UTC+02:00).
        expect(page.locator("#viewer-facts")).to_contain_text("9:40")
        expect(page.locator("#viewer-facts")).to_contain_text("UTC+02:00")
        page.screenshot(path=os.path.join(out, "viewer-1440.png"))
        accessible(page, "viewer")
        page.keyboard.press("Escape")
        expect(viewer).to_be_hidden()

        # A phone's width.
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(out, "gallery-390.png"), full_page=True)

        # Reload: still signed in, and the gallery is in the list.
        page.goto(base)
        page.reload()
        expect(page.locator(f'#galleries a[href="#/g/{gallery_id}"]')).to_be_visible()
        page.screenshot(path=os.path.join(out, "home-390.png"), full_page=True)

        # The same photos again, dropped on the page this time: known by their content,
        # none is sent a second time; they are organised again as a new gallery.
        puts.clear()
        dropped = [
            {"name": os.path.basename(f), "b64": base64.b64encode(open(f, "rb").read()).decode()}
            for f in photos
        ]
        page.evaluate(
            """(files) => {
                const dt = new DataTransfer();
                for (const f of files) {
                    const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                    dt.items.add(new File([bytes], f.name, {type: 'image/jpeg'}));
                }
                document.getElementById('drop').dispatchEvent(
                    new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
            }""",
            dropped,
        )
        expect(page.locator("#job-status")).to_contain_text("Done", timeout=60_000)
        assert puts == [], f"{len(puts)} photos sent again"
        expect(page.locator("#galleries li")).to_have_count(2)
    print(gallery_id)


def text(base, gallery_id, payload, out, profile):
    with session(profile) as page:
        page.goto(f"{base}/#/g/{gallery_id}")
        title = page.locator("#albums h2").first
        expect(title).to_have_text(payload)
        assert title.evaluate("h => h.children.length") == 0, "the title made elements"
        assert page.locator("#albums h2 img").count() == 0
        page.wait_for_timeout(300)
        page.screenshot(path=os.path.join(out, "title-as-text-1440.png"))


def retry(base, gallery_id, out, profile):
    with session(profile) as page:
        page.goto(f"{base}/#/g/{gallery_id}")
        expect(page.locator("#albums .status")).to_contain_text("failed")
        expect(page.locator("#albums .status")).to_contain_text("The model was unavailable.")
        accessible(page, "a failed gallery")
        page.get_by_role("button", name="Try again").click()
        page.wait_for_function(f"() => location.hash.startsWith('#/g/') && !location.hash.endsWith('{gallery_id}')", timeout=60_000)
        expect(page.locator("#albums h2").first).to_be_visible()
        assert page.locator("#albums img").count() > 0
        page.screenshot(path=os.path.join(out, "retried-1440.png"))


def you(base, out, profile):
    """The You panel: a name and a language saved, kept over a reload, and this month's
    usage shown; the language set back to English at the end."""
    with session(profile) as page:
        page.goto(base)
        expect(page.locator("#usage")).to_contain_text("for AI")
        expect(page.locator("#language")).to_have_value("en")
        page.fill("#display-name", "Ana Souza")
        page.select_option("#language", "es")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#you-status")).to_contain_text("Español")
        expect(page.locator("#who")).to_have_text("Ana Souza")
        page.reload()
        expect(page.locator("#language")).to_have_value("es")
        expect(page.locator("#display-name")).to_have_value("Ana Souza")
        accessible(page, "the You panel")
        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("#you-panel").screenshot(path=os.path.join(out, "you-390.png"))
        page.set_viewport_size({"width": 1440, "height": 900})
        page.select_option("#language", "en")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#you-status")).to_contain_text("English")


def search(base, out, profile):
    """The search box: a town read as a removable chip, the photos found with their place,
    the chip removed (everything again), date words, the history offered back, and a
    result opened in the viewer with its place."""
    with session(profile) as page:
        page.goto(base)
        box = page.get_by_label("Words, dates and places")
        box.fill("westerland")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator("#search-status")).to_contain_text("6 photos found")
        chip = page.get_by_role("button", name="Remove: in Westerland")
        expect(chip).to_be_visible()
        expect(page.locator("#search-results .grid > li")).to_have_count(6)
        expect(page.locator("#search-results .where").first).to_contain_text("Westerland")
        accessible(page, "search results")
        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("#search-panel").screenshot(path=os.path.join(out, "search-390.png"))
        page.set_viewport_size({"width": 1440, "height": 900})
        # A result opens in the viewer, which names the place.
        page.locator("#search-results .thumb").first.click()
        expect(page.locator("#viewer-facts")).to_contain_text("Westerland")
        page.get_by_role("button", name="Close").click()
        # Without the chip: every photo.
        chip.click()
        expect(page.locator("#search-status")).to_contain_text("12 photos found")
        expect(page.locator("#search-chips li")).to_have_count(0)
        # Date words: nothing that year, said plainly, the range shown as a chip.
        box.fill("2019")
        box.press("Enter")
        expect(page.locator("#search-status")).to_contain_text("Nothing found")
        expect(page.locator("#search-chips li")).to_have_count(1)
        # The searches made come back as suggestions.
        expect(page.locator("#search-history option")).to_have_count(2)
        page.screenshot(path=os.path.join(out, "search-1440.png"))


def share(base, gallery_id, out, profile, guest_profile):
    with session(profile) as page:
        page.goto(f"{base}/#/g/{gallery_id}")
        album_title = page.locator("#albums h2").first.text_content()
        page.locator("#albums .album").first.get_by_role("button", name="Share album").click()
        dialog = page.locator("#share-dialog")
        expect(dialog).to_be_visible()
        accessible(page, "the share dialog")
        page.get_by_label("Allow downloads").uncheck()
        page.get_by_label("Password (optional)").fill("lighthouse 7")
        page.get_by_role("button", name="Create link").click()
        url_box = page.locator("#share-url")
        expect(url_box).to_be_visible()
        url = url_box.input_value()
        assert url.startswith(f"{base}/s/"), url
        page.locator("#member-subject").fill("friend")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator("#member-list")).to_contain_text("friend (viewer)")
        page.screenshot(path=os.path.join(out, "share-dialog-1440.png"))
        page.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()

    # Someone with the link, never signed in here: the API answers 401 to no password
    # and to a wrong one.
    with session(guest_profile, expected=["status of 401", "status of 401"]) as page:
        page.goto(url)
        expect(page.get_by_label("This link has a password")).to_be_visible()
        assert page.locator("#sign-in").is_hidden(), "a link needs no sign-in"
        accessible(page, "a link's password form")
        page.get_by_label("This link has a password").fill("lighthouse 8")
        page.get_by_role("button", name="Open").click()
        expect(page.locator("#shared-error")).to_have_text("That password is not right.")
        page.get_by_label("This link has a password").fill("lighthouse 7")
        page.get_by_role("button", name="Open").click()
        expect(page.locator("#shared-title")).to_have_text(album_title)
        shared_photos = page.locator("#shared-albums img").count()
        assert shared_photos > 0
        page.wait_for_function(
            "() => [...document.querySelectorAll('#shared-albums img')].slice(0, 4).every(i => i.complete && i.naturalWidth > 0)"
        )
        shown = page.locator("#shared").inner_text()
        assert "°" not in shown, f"coordinates on a link without locations: {shown}"
        page.screenshot(path=os.path.join(out, "shared-1440.png"), full_page=True)
        accessible(page, "a shared album")
        page.locator("#shared-albums .thumb").first.click()
        expect(page.locator("#viewer")).to_be_visible()
        assert "preview.jpg" in page.locator("#viewer-image").get_attribute("src")
        expect(page.locator("#viewer-original")).to_be_hidden()
        expect(page.locator("#viewer-facts")).not_to_contain_text("Place")
        page.keyboard.press("Escape")
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(out, "shared-390.png"), full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})

        # The member signs in and finds the album shared with them.
        page.goto(base)
        page.get_by_label("Your name").fill("friend")
        page.get_by_role("button", name="Sign in").click()
        shared_link = page.locator("#with-me a")
        expect(shared_link).to_have_text(album_title)
        shared_link.click()
        expect(page.locator("#shared-title")).to_have_text(album_title)
        expect(page.locator("#shared-albums img")).to_have_count(shared_photos)

    # The owner: one view counted, then the link revoked.
    with session(profile) as page:
        page.goto(base)
        links = page.locator("#links li")
        expect(links).to_have_count(1)
        expect(links.first).to_contain_text(re.compile(r"(^|\D)1 view(?!s)"))
        expect(links.first).to_contain_text("password")
        links.first.get_by_role("button", name="Revoke").click()
        expect(page.locator("#links-panel")).to_be_hidden()
    with session(guest_profile, expected=["status of 404"]) as page:
        page.goto(url)
        expect(page.locator("#shared-title")).to_have_text("This link does not work")
    print(url)


class HostedUi(BaseHTTPRequestHandler):
    """Cognito's /oauth2/authorize and /oauth2/token for one public client, strictly."""

    client_id = redirect_uri = secret = None
    codes = {}
    problems = []
    logged_out = []

    def log_message(self, *args):
        pass

    def send(self, status, body=None, location=None):
        self.send_response(status)
        self.send_header("access-control-allow-origin", "*")
        if location:
            self.send_header("location", location)
        data = json.dumps(body).encode() if body is not None else b""
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/logout":
            if q.get("client_id") != self.client_id or q.get("logout_uri") != self.redirect_uri:
                self.problems.append(f"logout request wrong: {q}")
                return self.send(400, {"error": "invalid_request"})
            self.logged_out.append(q)
            return self.send(302, location=q["logout_uri"])
        if url.path != "/oauth2/authorize":
            return self.send(404, {"error": "not_found"})
        checks = {
            "response_type": q.get("response_type") == "code",
            "client_id": q.get("client_id") == self.client_id,
            "redirect_uri": q.get("redirect_uri") == self.redirect_uri,
            "S256": q.get("code_challenge_method") == "S256",
            "challenge": len(q.get("code_challenge", "")) == 43,
            "state": len(q.get("state", "")) >= 16,
            "openid": "openid" in q.get("scope", "").split(),
        }
        failed = [k for k, ok in checks.items() if not ok]
        if failed:
            self.problems.append(f"authorize request wrong: {failed} {q}")
            return self.send(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        self.codes[code] = (q["code_challenge"], q["redirect_uri"])
        back = urllib.parse.urlencode({"code": code, "state": q["state"]})
        self.send(302, location=f"{q['redirect_uri']}?{back}")

    def do_POST(self):
        if self.path != "/oauth2/token":
            return self.send(404, {"error": "not_found"})
        length = int(self.headers.get("content-length", 0))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if self.headers.get("authorization") or "client_secret" in form:
            self.problems.append("a public client sent a secret")
        saved = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        expected = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            form.get("grant_type") != "authorization_code"
            or form.get("client_id") != self.client_id
            or saved is None
            or saved[1] != form.get("redirect_uri")
            or saved[0] != expected
            or not 43 <= len(verifier) <= 128
        ):
            self.problems.append(f"token request refused: {form}")
            return self.send(400, {"error": "invalid_grant"})
        now = int(time.time())
        claims = {"sub": "cognito-user-1", "iss": "momentarium-dev", "iat": now, "exp": now + 3600}
        token = jwt.encode(claims, self.secret, algorithm="HS256")
        self.send(200, {"id_token": token, "access_token": token, "token_type": "Bearer", "expires_in": 3600})


def cognito(base, idp_port, client_id, secret, out, profile):
    HostedUi.client_id, HostedUi.redirect_uri, HostedUi.secret = client_id, f"{base}/", secret
    server = ThreadingHTTPServer(("127.0.0.1", int(idp_port)), HostedUi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # The stand-in's own findings count with the page's, after the session.
    extra = HostedUi.problems
    with session(profile, extra) as page:
        page.goto(base)
        button = page.get_by_role("button", name="Sign in or create an account")
        expect(button).to_be_visible()
        accessible(page, "sign-in through the hosted UI")
        button.click()
        # Back from the authorization server, the code exchanged, the API answering.
        expect(page.locator("#who")).to_have_text("cognito-user-1", timeout=15_000)
        expect(page.get_by_role("heading", name="Your galleries")).to_be_visible()
        expect(page.locator("#galleries-empty")).to_have_text("Nothing organised yet.")
        assert "code=" not in page.url, f"the code is left in the address: {page.url}"
        page.screenshot(path=os.path.join(out, "signed-in-cognito-1440.png"))
        # Signing out ends the hosted UI's session too, and comes back signed out.
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in or create an account")).to_be_visible()
        assert len(HostedUi.logged_out) == 1, HostedUi.logged_out
        if HostedUi.codes:
            extra.append("a code was never exchanged")
    server.shutdown()


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"flow": flow, "text": text, "retry": retry, "share": share, "you": you, "search": search, "cognito": cognito}[command](*args)
