"""Makes a gallery of N photos through the public API of a running `serve`, as a client
would: N generated 1600x1200 JPEGs (EXIF times over eight outings), one upload request,
the presigned PUTs, one process request, then waits for the job. Prints the gallery id.

    seed.py BASE_URL TOKEN N
"""

import io
import json
import sys
import time
import urllib.request

from PIL import Image, ImageDraw


def call(method, url, token=None, body=None, headers=None, data=None):
    request = urllib.request.Request(url, method=method, data=data)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
        return json.loads(text) if text else None


def photo(i):
    image = Image.new("RGB", (1600, 1200), ((i * 37) % 256, (i * 91) % 256, 160))
    draw = ImageDraw.Draw(image)
    for k in range(12):
        draw.ellipse(
            [(i * 53 + k * 131) % 1400, (i * 29 + k * 97) % 1000, (i * 53 + k * 131) % 1400 + 200, (i * 29 + k * 97) % 1000 + 200],
            fill=((k * 60) % 256, (i * 13) % 256, (k * 23 + i) % 256),
        )
    exif = Image.Exif()
    outing, minute = divmod(i, 25)
    exif[0x8769] = {0x9003: f"2025:0{1 + outing % 9}:1{outing % 10} 1{minute // 6}:{(minute * 7) % 60:02d}:00"}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def main(base, token, n):
    files = [(f"IMG_{i:04d}.jpg", photo(i)) for i in range(n)]
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
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
