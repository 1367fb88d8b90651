"""The signing key: shared by every worker, generated once (race-safe), or read from a file."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from chassis.auth import TokenValidator
from identity.adapters.keys import KeyStore, RotationPolicy
from identity.entrypoints.app import build_app


def test_concurrent_workers_end_up_with_one_key(runtime) -> None:
    stores = [KeyStore(runtime.engine) for _ in range(8)]
    kids: list[str] = []
    barrier = threading.Barrier(len(stores))

    def load(store: KeyStore) -> None:
        barrier.wait()
        kids.append(store.kid)

    threads = [threading.Thread(target=load, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kids) == 8 and len(set(kids)) == 1


def test_a_reread_parses_only_keys_it_has_not_parsed_before(runtime) -> None:
    store = KeyStore(runtime.engine)
    first = store.signing_key
    store.reload()  # as every refresh_seconds: the rows are read again
    assert store.signing_key is first  # the same row: not imported (checked) again

    report = store.rotate(RotationPolicy(publish_lead=timedelta(0), token_lifetime=timedelta(minutes=5)))
    assert report.added is not None
    assert store.kid == report.added  # the new row is parsed; it signs now
    assert {key.kid for key in store.ring().keys} == {first.kid, report.added}
    assert next(k.key for k in store.ring().keys if k.kid == first.kid) is first


def test_jwks_holds_only_the_public_half(app) -> None:
    [key] = app.test_client().get("/jwks").get_json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert "d" not in key and "p" not in key


def test_signing_key_file_takes_precedence(make_runtime, tmp_path: Path) -> None:
    key = RSAKey.generate_key(2048)
    path = tmp_path / "signing-key.pem"
    path.write_bytes(key.as_pem(private=True))
    runtime = make_runtime(IDENTITY_SIGNING_KEY_FILE=str(path))
    client = build_app(runtime).test_client()
    [published] = client.get("/jwks").get_json()["keys"]
    assert published["n"] == key.as_dict()["n"]
    assert published["kid"] == key.thumbprint()

    store = runtime.keys
    token = jwt.encode(
        {"alg": "RS256", "kid": store.kid},
        {"iss": runtime.settings.issuer, "aud": "bildungsportal", "sub": "x", "exp": 4102444800},
        store.signing_key,
    )
    validator = TokenValidator(
        lambda force=False: KeySet.import_key_set(client.get("/jwks").get_json()),
        issuer=runtime.settings.issuer,
        audience="bildungsportal",
    )
    assert validator.validate(token).subject == "x"
