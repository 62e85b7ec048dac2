"""The thin MkDocs adapter over the cardbook core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger

from .check import CheckResult, load_and_check
from .config import Settings
from .problems import ConfigError

log = get_plugin_logger(__name__)


class CardbookConfig(base.Config):
    card_roots = c.Type(list, default=["docs/how-to"])
    output_roots = c.Type(list, default=["nix"])
    statuses = c.Type(dict, default={"active": "open", "done": "closed"})
    annotate = c.Type(bool, default=True)
    comment_styles = c.Type(dict, default={})
    aggregator = c.Type(str, default="nix/default.nix")
    graphs = c.Type(bool, default=True)


class CardbookPlugin(BasePlugin[CardbookConfig]):
    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.result: CheckResult | None = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path).resolve().parent
        docs_dir = Path(config.docs_dir).resolve()
        try:
            self.settings = Settings.from_mapping(
                dict(self.config),
                root=root,
                config_file=Path(config.config_file_path),
                docs_dir=docs_dir.relative_to(root).as_posix()
                if docs_dir.is_relative_to(root)
                else str(docs_dir),
            )
        except ConfigError as exc:
            raise PluginError(exc.problem.format()) from None
        return config

    def on_pre_build(self, config: MkDocsConfig, **kwargs: Any) -> None:
        assert self.settings is not None
        self.result = load_and_check(self.settings)
        for problem in self.result.problems:
            log.warning(problem.format())
