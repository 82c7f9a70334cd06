"""What parsing learnt in earlier runs, kept in ``target/partial_parse.json`` (dbt's partial parse, never stale).

Two things are kept:

* the Python Jinja generated for each template (``templates``): it depends on the
  template's text, its path and Jinja's version alone (core.jinja.environment.TemplateCodes);
* what rendering each model in parse mode found (``models``): its final config, its
  refs (with the relation each resolved to) and its sources. An entry's key hashes
  every input the render could see: the project's key (:func:`project_key`: the
  project's and its packages' configuration, vars, target, every macro, property
  and docs file, the full-refresh flag) and the model's own text, path, package and
  starting config. An entry also names the environment variables the render read
  through ``env_var()`` and hashes their values, so a changed value misses; and on a
  hit every ref must still resolve to the relation it did. A render that read the
  clock (``run_started_at``, ``modules``, ``invocation_id``), asked the database or
  warned is not kept at all.

The templates' bytecode (``objects``, what compiling that Python gives) is kept beside it in
``target/partial_parse.marshal``, as Python keeps a module's in ``__pycache__``: marshal, headed by
Python's bytecode magic number and a hash of the versions below, and ended by a hash of all that
comes before it; any other file, or one damaged inside, is ignored.

Nothing holding a secret of the environment (stockx_export.redact.secret_values) is kept: not a
template whose text holds one (a hook written from ``env_var()``'s value), nor a model's config or
SQL that does (a var rendered from ``env_var()`` in dbt_project.yml).

The whole file is dropped when stockx's, Jinja's, sqlglot's, DuckDB's or Python's
version differs from the run that wrote it. A file that cannot be read or is not
what it should be is ignored and rewritten, never an error: the cache only saves time.
``--no-partial-parse`` (or ``STOCKX_NO_PARTIAL_PARSE=1``) turns it off: nothing is
read or written.

JSON rather than pickle: the file holds strings and plain config values only, and
a damaged file cannot run code while it is read. (The Python source in
``templates`` is compiled and run as the templates it came from would be: the
target folder is the project's own, like the compiled SQL beside it.)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import os
import sys
from dataclasses import dataclass
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import CodeType
from typing import Any

from stockx_export import __version__
from stockx_export.redact import Redactor

FILE = "partial_parse.json"
BYTECODE_FILE = "partial_parse.marshal"
FORMAT = 2  # 2: nothing holding a secret is kept (a cache of format 1 may hold some: dropped whole)
MAX_TEMPLATES = 20_000  # past this many, only the templates of the latest run are kept
_CHECK_SIZE = 32  # the sha256 of the rest of partial_parse.marshal, at its end


@functools.cache
def tool_versions() -> dict[str, str]:
    """The versions whose change drops the whole cache: stockx, Jinja, sqlglot, DuckDB and Python."""
    versions = {"stockx": __version__, "python": sys.version}
    for package in ("jinja2", "sqlglot", "duckdb"):
        versions[package] = installed_version(package)
    return versions


def installed_version(package: str) -> str:
    """The installed version of ``package`` ("" when it is not installed), without importing it.

    Read from the name of its ``<name>-<version>.dist-info`` folder beside it: importing
    sqlglot and DuckDB, or importlib.metadata, would cost a command like ``stockx ls`` more
    than the cache saves it.
    """
    from importlib.util import find_spec

    spec = find_spec(package)
    if spec is None or not spec.origin:
        return ""
    folder = Path(spec.origin).parent.parent
    prefix = package.lower().replace("-", "_") + "-"
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        names = []
    found = sorted(n for n in names if n.lower().startswith(prefix) and n.endswith(".dist-info"))
    if len(found) == 1:
        return found[0][len(prefix):-len(".dist-info")]
    from importlib import metadata  # not one clear folder: ask the slower, thorough way

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def digest(*parts: Any) -> str:
    """A hash of ``parts`` (JSON; what JSON cannot say, by its repr)."""
    text = json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def files_digest(paths: list[Path]) -> str:
    """A hash of the names and bytes of ``paths`` (a file that cannot be read counts as missing)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path).encode("utf-8") + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


@dataclass(frozen=True)
class ModelParse:
    """What rendering a model in parse mode found."""

    config: dict[str, Any]
    refs: tuple[tuple[str, str], ...]  # (name, the relation it resolved to, as text)
    sources: tuple[tuple[str, str, str], ...]  # (source, table, what it resolved to, as text)
    this: str  # the model's own relation as the render saw it, as text
    text: str | None  # the SQL it rendered to; None when its config() calls changed its config


class ParseCache:
    """The cache of one project's target folder; read when made, written by :meth:`save`."""

    def __init__(self, target_dir: Path, *, enabled: bool = True) -> None:
        self.path = target_dir / FILE
        self.enabled = enabled
        self.project_key = ""
        self.templates: dict[str, str] = {}
        self._models: dict[str, dict[str, Any]] = {}
        self._kept_models: dict[str, dict[str, Any]] = {}  # the entries of this run (what is written)
        self._used_templates: set[str] = set()
        self._changed = False
        if enabled:
            self._read()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or data.get("versions") != tool_versions():
                return
            templates, models = data["templates"], data["models"]
            if not (isinstance(templates, dict) and isinstance(models, dict)):
                return
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in templates.items()):
                return
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return  # no cache, or a damaged one: parse from scratch and write a good one
        self.templates = templates
        self._models = models

    # -- models --------------------------------------------------------------------------------

    @staticmethod
    def model_key(project_key: str, path: str, package: str, raw: str, config: dict[str, Any]) -> str:
        return digest(project_key, path, package, raw, config)

    def model(self, key: str) -> ModelParse | None:
        """The parse kept under ``key`` when the environment variables it read still hold the same values."""
        entry = self._models.get(key)
        if not self.enabled or not isinstance(entry, dict):
            return None
        try:
            names = list(entry["env"])
            if entry["env_digest"] != _env_digest(key, names):
                return None
            text = entry["text"]
            found = ModelParse(
                config=dict(entry["config"]),
                refs=tuple((str(n), str(r)) for n, r in entry["refs"]),
                sources=tuple((str(s), str(t), str(e)) for s, t, e in entry["sources"]),
                this=str(entry["this"]),
                text=None if text is None else str(text),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        self._kept_models[key] = entry
        return found

    def keep_model(self, key: str, found: ModelParse, env_vars: dict[str, str | None]) -> None:
        """Keep what a render found, unless its config would not come back from JSON as it is."""
        if not self.enabled:
            return
        if self._holds_secret(found.config):
            return  # a hook or setting written from a secret (env_var(), or a var rendered from one)
        entry = {
            "config": found.config,
            "refs": [list(r) for r in found.refs],
            "sources": [list(s) for s in found.sources],
            "this": found.this,
            # A value read from the environment may be a secret: SQL that holds one is not written.
            "text": None if env_vars or self._holds_secret(found.text) else found.text,
            "env": sorted(env_vars),
            "env_digest": _env_digest(key, sorted(env_vars)),
        }
        try:
            if json.loads(json.dumps(found.config)) != found.config:
                return  # e.g. a tuple in a config() call: it would come back a list
        except (TypeError, ValueError):
            return
        self._kept_models[key] = entry
        self._changed = True

    # -- templates -----------------------------------------------------------------------------

    def lend_templates(self, codes) -> None:
        """Give ``codes`` (a TemplateCodes) the templates kept from earlier runs, and their bytecode;
        it keeps no template whose text holds a secret of the environment."""
        if self.enabled:
            codes.entries.update(self.templates)
            codes.objects.update(self._read_objects())
            codes.keeps = lambda source: not self._holds_secret(source)

    def _holds_secret(self, value: Any) -> bool:
        """Whether ``value`` (text, or a config's values) holds a secret of the environment, in any encoding."""
        return value is not None and self._redactor.scrub_value(value) != value

    @functools.cached_property
    def _redactor(self) -> Redactor:
        return Redactor.of_environment(os.environ)

    def _bytecode_header(self) -> bytes:
        return MAGIC_NUMBER + hashlib.sha256(json.dumps([FORMAT, tool_versions()], sort_keys=True).encode()).digest()

    def _read_objects(self) -> dict[str, CodeType]:
        header = self._bytecode_header()
        try:
            data = (self.path.parent / BYTECODE_FILE).read_bytes()
            body, check = data[:-_CHECK_SIZE], data[-_CHECK_SIZE:]
            # marshal reads damaged bytes without a word (a changed string that a template writes into
            # the SQL, changed bytecode): only a file whose hash still holds is run.
            if not body.startswith(header) or hashlib.sha256(body).digest() != check:
                return {}
            objects = marshal.loads(body[len(header):])
        except (OSError, ValueError, EOFError, TypeError):
            return {}  # none yet, or damaged: compiled again and written anew
        if not isinstance(objects, dict):
            return {}
        return {k: v for k, v in objects.items() if isinstance(k, str) and isinstance(v, CodeType)}

    def _save_objects(self, codes) -> None:
        """Write the bytecode of the templates the cache keeps, whole or not at all."""
        objects = {k: v for k, v in codes.objects.items() if k in codes.entries}
        if len(codes.entries) > MAX_TEMPLATES:
            objects = {}
        path = self.path.parent / BYTECODE_FILE
        tmp = path.with_name(f"{BYTECODE_FILE}.{os.getpid()}.tmp")
        try:
            body = self._bytecode_header() + marshal.dumps(objects)
            tmp.write_bytes(body + hashlib.sha256(body).digest())
            os.replace(tmp, path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return
        codes.objects_added = False

    # -- writing -------------------------------------------------------------------------------

    def save(self, codes) -> None:
        """Write the cache when this run learnt something new (``codes``: the run's TemplateCodes).

        Written whole or not at all; a folder that cannot be written is left as it is.
        """
        if not self.enabled:
            return
        if codes.objects_added:
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._save_objects(codes)
        if not self._changed and not codes.added and self._kept_models.keys() == self._models.keys():
            return
        templates = dict(codes.entries) if len(codes.entries) <= MAX_TEMPLATES else {}
        data = {"format": FORMAT, "versions": tool_versions(), "templates": templates, "models": self._kept_models}
        tmp = self.path.with_name(f"{FILE}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, sort_keys=True, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return
        self._models = dict(self._kept_models)
        self._changed = False
        codes.added = False


def _env_digest(key: str, names: list[str]) -> str:
    # The values are hashed with the entry's key, never written as they are (they may be secrets).
    return digest(key, [(name, os.environ.get(name)) for name in names])
