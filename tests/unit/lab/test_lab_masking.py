from lab.masking import MASK, fingerprint, is_secret_name, mask, scrub_text


def test_mask_nested_secrets():
    body = {
        "client_id": "lab1234",
        "client_secret": "s3cr3t",
        "grant_type": "client_credentials",
        "AuthPassword": {"Value": "pw", "Concealed": False},
        "Password": "p",
        "access_token": "t",
        "accounts": [{"account_sid": "AC1", "auth_token": "tok", "api_key": "SK1", "api_secret": "sec"}],
        "VMPassword": "",
        "Name": "keep",
    }
    out = mask(body)
    assert out["client_secret"] == MASK and out["Password"] == MASK and out["access_token"] == MASK
    assert out["AuthPassword"] == {"Value": MASK, "Concealed": False}
    assert out["accounts"][0] == {"account_sid": "AC1", "auth_token": MASK, "api_key": "SK1", "api_secret": MASK}
    assert out["client_id"] == "lab1234" and out["Name"] == "keep" and out["VMPassword"] == ""
    assert body["client_secret"] == "s3cr3t", "the input is not modified"


def test_secret_names():
    for name in ("Password", "AuthPassword", "client_secret", "ApiSecret", "refresh_token", "Authorization"):
        assert is_secret_name(name)
    for name in ("api_key", "client_id", "account_sid", "PasswordlessName"[:4], "TokenCount"):
        assert not is_secret_name(name)


def test_fingerprint_and_scrub():
    assert fingerprint("abc") == fingerprint("abc") != fingerprint("abd")
    assert "abc" not in fingerprint("abc")
    assert scrub_text("token=abc; x", ["abc", ""]) == f"token={MASK}; x"
