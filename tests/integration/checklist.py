"""The README's deployment checklist, as the rehearsal reads it (issue 26).

"Deploying on several machines" marks each block the rehearsal runs with an HTML comment,
`<!-- rehearsal: NAME -->`, right before the fenced block: `data` (the data host's commands),
`env` (the one environment file of every web, worker and beat host), `web`, `worker`, `beat`
(each app host's steps: every line but the last runs to its end, in order; the last is the
host's service). Values the newsroom chooses are written as placeholders (DATA_HOST,
DB_PASSWORD, news.example.com, ...); the rehearsal substitutes its own and refuses to run a
command that still holds one.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "Deploying on several machines"
_BLOCK = re.compile(r"<!-- rehearsal: (\w+) -->\s*\n```\w*\n(.*?)\n```", re.DOTALL)
# What a newsroom fills in. The rehearsal maps every one of these to a value of its own.
PLACEHOLDERS = (
    "DATA_HOST",
    "APP_NETWORK",
    "DB_PASSWORD",
    "REDIS_PASSWORD",
    "AMQP_PASSWORD",
    "LONG_RANDOM_SECRET_KEY",
    "LONG_RANDOM_HASH_KEY",
    "WEBHOOK_PASSWORD",
    "MAILGUN_API_KEY",
    "news.example.com",
)


@dataclass(frozen=True)
class Checklist:
    blocks: dict[str, list[str]]

    def commands(self, name: str) -> list[str]:
        """The command lines of block `name` (comments and blank lines left out)."""
        return [line for line in self.blocks[name] if line.strip() and not line.lstrip().startswith("#")]

    def steps(self, role: str) -> tuple[list[str], str]:
        """An app host's one-off steps, in order, and its service (the last line)."""
        lines = self.commands(role)
        return lines[:-1], lines[-1]

    def environment(self) -> dict[str, str]:
        """The env block as a dict (KEY=value; a quoted value loses its quotes, as in a shell)."""
        values = {}
        for line in self.commands("env"):
            name, _, value = line.partition("=")
            parts = shlex.split(value, comments=True)
            values[name.strip()] = " ".join(parts)
        return values


def read(readme: Path = ROOT / "README.md") -> Checklist:
    text = readme.read_text(encoding="utf-8")
    section = text.split(f"\n## {SECTION}\n", 1)[1].split("\n## ", 1)[0]
    blocks = {name: body.splitlines() for name, body in _BLOCK.findall(section)}
    missing = {"data", "env", "web", "worker", "beat"} - set(blocks)
    assert not missing, f"README '{SECTION}' has no <!-- rehearsal: ... --> block for {sorted(missing)}"
    return Checklist(blocks)


def substitute(text: str, values: dict[str, str]) -> str:
    """`text` with every placeholder replaced; a placeholder left over is an error."""
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    left = [placeholder for placeholder in PLACEHOLDERS if placeholder in text]
    assert not left, f"no rehearsal value for {left} in {text!r}"
    return text
