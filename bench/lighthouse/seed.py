"""Makes one gallery of every JPEG under FOLDER through the public API of a running
`serve`, as a client would: one upload request, the presigned PUTs, one process request,
then waits for the job. Prints the gallery id.

    seed.py BASE_URL TOKEN FOLDER
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request


def call(method, url, token=None, body=None, headers=None, data=None):
    request = urllib.request.Request(url, method=method, data=data)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        e.msg = f"{e.msg}: {e.read().decode(errors='replace')[:500]}"
        raise


def main(base, token, folder):
    paths = sorted(
        os.path.join(d, f)
        for d, _, names in os.walk(folder)
        for f in names
        if f.lower().endswith((".jpg", ".jpeg"))
    )
    files = [(os.path.basename(p), open(p, "rb").read()) for p in paths]
    tickets = call(
        "POST",
        f"{base}/api/uploads/generate-urls",
        token,
        {"files": [{"filename": name, "contentType": "image/jpeg", "size": len(data)} for name, data in files]},
    )["uploads"]
    for ticket, (_, data) in zip(tickets, files):
        headers = {k: v for k, v in ticket["headers"].items() if k.lower() != "content-length"}
        call("PUT", ticket["url"], headers=headers, data=data)
    ids = [t["imageId"] for t in tickets]
    for _ in range(120):
        try:
            accepted = call("POST", f"{base}/api/galleries/process", token, {"imageIds": ids})
            break
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
            time.sleep(0.5)
    while True:
        status = call("GET", f"{base}/api/jobs/{accepted['jobId']}/status", token)
        if status["status"] in ("completed", "failed"):
            break
        time.sleep(0.3)
    assert status["status"] == "completed", status
    print(accepted["galleryId"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
