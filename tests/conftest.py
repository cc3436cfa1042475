"""Suite-wide fixtures: no network but loopback, every data path in a temp dir, one real index."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SEEDS = ROOT.parent / "shared" / "seeds"


def _loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkBlocked(OSError):
    pass


@pytest.fixture(autouse=True, scope="session")
def block_network():
    """Any connection to a non-loopback address fails: 'offline' is checked, not hoped."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(address: object) -> None:
        if not _loopback(address):
            raise NetworkBlocked(f"test tried to reach {address!r}: only loopback is allowed")

    def connect(self, address):  # noqa: ANN001, ANN202
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):  # noqa: ANN001, ANN202
        guard(address)
        return real_connect_ex(self, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    yield
    socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex


@pytest.fixture(autouse=True, scope="session")
def isolated_data(tmp_path_factory):
    """Tests never touch the developer's index or database."""
    data = tmp_path_factory.mktemp("data")
    os.environ["ASSISTANT_DATA_DIR"] = str(data)
    for var in ("ASSISTANT_INDEX_DIR", "ASSISTANT_CHROMA_HOST", "ASSISTANT_DATABASE_URL", "ASSISTANT_KNOWLEDGE_DIR"):
        os.environ.pop(var, None)
    from assistant.settings import get_settings

    get_settings.cache_clear()
    yield data


@pytest.fixture(scope="session")
def settings(isolated_data):
    from assistant.settings import Settings

    return Settings(knowledge_dir=KNOWLEDGE, data_dir=isolated_data, index_dir=isolated_data / "index")


@pytest.fixture(scope="session")
def built_index(settings):
    """The real notices, ingested once with the real model into a temp Chroma index."""
    from ingest.build import Indexer

    report = Indexer(settings, progress=False).run()
    return report


@pytest.fixture(scope="session")
def bot(settings, built_index):
    from assistant.pipeline import Assistant

    a = Assistant(settings)
    a.warm_up()
    return a


@pytest.fixture(scope="session")
def notices():
    from ingest.parse import load_notices

    return {n.id: n for n in load_notices(KNOWLEDGE)}


@pytest.fixture(scope="module")
def served(bot, settings, tmp_path_factory):
    """The whole app on a loopback port (staff login alice / correct-horse), with a throw-away database."""
    import app

    from eval.loopback import serve

    db = tmp_path_factory.mktemp("db") / "requests.sqlite3"
    s = settings.replace(database_url=f"sqlite:///{db}", staff_credentials="alice:correct-horse")
    url, server = serve(app.create_app(s, bot=bot))
    yield url
    server.should_exit = True
