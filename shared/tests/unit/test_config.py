from chassis.config import ServiceSettings, env_prefix


def test_each_service_reads_its_own_database_and_shared_bus(tmp_path) -> None:
    env = {
        "BP_DATA_DIR": str(tmp_path),
        "TRAINING_RECORDS_DATABASE_URL": "postgresql://db/bp_training_records",
        "IDENTITY_DATABASE_URL": "postgresql://db/bp_identity",
        "BP_BUS_URL": "amqp://guest:guest@mq//",
        "TRAINING_RECORDS_IMPORT_BATCH": "500",
    }
    settings = ServiceSettings.from_env("training-records", env)
    assert env_prefix("training-records") == "TRAINING_RECORDS"
    assert settings.database_url == "postgresql://db/bp_training_records"
    assert settings.bus_url == "amqp://guest:guest@mq//"
    assert settings.extra == {"DATABASE_URL": "postgresql://db/bp_training_records", "IMPORT_BATCH": "500"}
    assert not settings.is_memory_bus and not settings.is_sqlite


def test_defaults_are_the_embedded_mode(tmp_path) -> None:
    settings = ServiceSettings.from_env("exams", {"BP_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'exams.db'}"
    assert settings.is_memory_bus
    assert settings.issuer == "http://127.0.0.1:8080/auth"
    assert settings.jwks_url == "http://127.0.0.1:8080/auth/jwks"
    assert settings.behind_proxy is False


def test_the_repr_shows_no_secret(tmp_path) -> None:
    """Settings end up in log lines and tracebacks: keys, passwords in URLs and the
    service's own settings (which hold its keys) must not."""
    env = {
        "BP_DATA_DIR": str(tmp_path),
        "IDENTITY_DATABASE_URL": "postgresql://bp:db-password@db/bp_identity",
        "BP_BUS_URL": "amqp://bp:bus-password@mq//",
        "IDENTITY_SECRET_KEY": "the-secret-key",
        "IDENTITY_CODE_HASH_KEY": "the-code-hash-key",
    }
    text = repr(ServiceSettings.from_env("identity", env))
    assert "identity" in text
    for secret in ("db-password", "bus-password", "the-secret-key", "the-code-hash-key"):
        assert secret not in text
