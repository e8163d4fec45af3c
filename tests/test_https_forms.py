"""Forms work over HTTPS although pages send Referrer-Policy: no-referrer (browsers
then send no Referer, which Flask-WTF's HTTPS Referer check would refuse); the CSRF
token is still required. Found when the first browser test over HTTPS could not sign
in (tests/e2e/test_tls_serve.py)."""

import re

from .helpers import PASSWORD


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_sign_in_over_https_without_a_referer(make_app, make_user) -> None:  # type: ignore[no-untyped-def]
    app = make_app(WTF_CSRF_ENABLED=True)
    user = make_user("client")
    client = app.test_client()
    https = {"base_url": "https://clinic.example"}
    page = client.get("/login", **https)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    form = {"email": user.email, "password": PASSWORD}
    refused = client.post("/login", data=form, **https)  # no token
    assert refused.status_code == 400
    r = client.post(
        "/login",
        data={**form, "csrf_token": _token(page.get_data(as_text=True))},
        **https,
    )
    assert r.status_code == 302 and "/login" not in r.headers["Location"]
