def test_login_page_renders(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert b'data-testid="login-email"' in r.data


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json()["database"] == "ok"
