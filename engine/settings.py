"""All of imagetrail's configuration, read from the environment once per command.

The CLI's composition root loads it at the start of every invocation (never at import: a
test or a script may change the environment between two commands), lets the command-line
flags override it, and hands the values down as plain arguments. Nothing else in engine/ or
projections/ reads the environment. Values whose errors name the variable (numbers, the
platform) are checked where they are used, so a bad registry setting does not stop an
--offline command; what is parsed here is refused here, in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.references import one_line


def _env(name: str, secret: bool = False) -> Any:
    return Field(None, validation_alias=name, repr=not secret)


class Settings(BaseSettings):
    # every field names its variable in full: the names are the user-facing contract
    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore",
                                      populate_by_name=True, frozen=True)

    # the global flags' defaults (-n, --store, --as, --mirror, --offline)
    namespace: str | None = _env("IMAGETRAIL_NAMESPACE")
    store: str | None = _env("IMAGETRAIL_STORE")
    actor: str | None = _env("IMAGETRAIL_ACTOR")
    mirror: str | None = _env("IMAGETRAIL_MIRROR")  # the registry snapshot file
    offline: bool = Field(False, validation_alias="IMAGETRAIL_OFFLINE")
    debug: str | None = _env("IMAGETRAIL_DEBUG")  # any value: show the traceback of an unexpected error

    internal_registry: str | None = _env("IMAGETRAIL_INTERNAL_REGISTRY")

    # the registry client: raw, checked by RegistryClient.configured (its messages name the variable)
    registry_timeout: str | None = _env("IMAGETRAIL_REGISTRY_TIMEOUT")
    registry_retries: str | None = _env("IMAGETRAIL_REGISTRY_RETRIES")
    registry_backoff: str | None = _env("IMAGETRAIL_REGISTRY_BACKOFF")
    import_platform: str | None = _env("IMAGETRAIL_IMPORT_PLATFORM")
    registry_auth_file: str | None = _env("REGISTRY_AUTH_FILE")
    xdg_runtime_dir: str | None = _env("XDG_RUNTIME_DIR")
    docker_config: str | None = _env("DOCKER_CONFIG")

    # the Kafka store: a properties file, and single settings that take precedence over it
    kafka_config: str | None = _env("IMAGETRAIL_KAFKA_CONFIG")
    kafka_security_protocol: str | None = _env("IMAGETRAIL_KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: str | None = _env("IMAGETRAIL_KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = _env("IMAGETRAIL_KAFKA_SASL_USERNAME")
    kafka_sasl_password: str | None = _env("IMAGETRAIL_KAFKA_SASL_PASSWORD", secret=True)
    kafka_ssl_cafile: str | None = _env("IMAGETRAIL_KAFKA_SSL_CAFILE")
    kafka_client_id: str | None = _env("IMAGETRAIL_KAFKA_CLIENT_ID")
    kafka_timeout: str | None = _env("IMAGETRAIL_KAFKA_TIMEOUT")
    kafka_replication_factor: str | None = _env("IMAGETRAIL_KAFKA_REPLICATION_FACTOR")
    kafka_min_insync_replicas: str | None = _env("IMAGETRAIL_KAFKA_MIN_INSYNC_REPLICAS")
    kafka_cache_dir: str | None = _env("IMAGETRAIL_KAFKA_CACHE_DIR")
    kafka_ce_source: str | None = _env("IMAGETRAIL_KAFKA_CE_SOURCE")

    # the XDG base directories
    xdg_data_home: str | None = _env("XDG_DATA_HOME")
    xdg_state_home: str | None = _env("XDG_STATE_HOME")
    xdg_cache_home: str | None = _env("XDG_CACHE_HOME")

    @classmethod
    def load(cls) -> Settings:
        """The environment as it is now; a value that cannot be parsed is one `error:` line."""
        try:
            return cls()
        except ValidationError as e:
            error = e.errors()[0]
            name, value = error["loc"][0], one_line(str(error["input"]))
            what = "a boolean (1, true, yes, on or 0, false, no, off)" if error["type"] == "bool_parsing" else \
                f"valid ({error['msg']})"
            raise UsageError(f"{name}={value} is not {what}; fix or unset it") from None

    def with_flags(self, **flags: Any) -> Settings:
        """These settings under the command line's flags: a flag that was given wins."""
        return self.model_copy(update={k: v for k, v in flags.items() if v is not None})

    # -- paths: the XDG defaults ---------------------------------------------------------------

    @property
    def data_home(self) -> Path:
        return Path(self.xdg_data_home or Path.home() / ".local" / "share")

    @property
    def state_home(self) -> Path:
        return Path(self.xdg_state_home or Path.home() / ".local" / "state")

    @property
    def cache_home(self) -> Path:
        return Path(self.xdg_cache_home or Path.home() / ".cache")

    @property
    def default_store_url(self) -> str:
        return f"sqlite:///{self.data_home / 'imagetrail' / 'imagetrail.db'}"

    @property
    def kafka_cache(self) -> Path:
        """The Kafka store's local cache of the log, unless IMAGETRAIL_KAFKA_CACHE_DIR or cache.dir say."""
        return self.cache_home / "imagetrail" / "kafka"

    def kafka_overrides(self) -> dict[str, str]:
        """The IMAGETRAIL_KAFKA_* settings that are set, under the Kafka store's keys (KAFKA_SASL_PASSWORD, …)."""
        return {name.upper(): value for name, value in self if name.startswith("kafka_")
                and name != "kafka_config" and value}
