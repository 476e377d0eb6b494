"""SQLite writers queue on ``<database>.lock`` (kernel wake-up) rather than on SQLite's polling busy handler."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from sqlalchemy import text

from faultbook.store.db import Database, _WriteQueue

HOLD = 1.0


def test_a_writer_in_another_process_is_waited_for_then_the_write_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    db = Database(f"sqlite:///{path}")
    with db.session(write=True) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    assert (tmp_path / "ledger.db.lock").exists()
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from sqlalchemy import text
            from faultbook.store.db import Database
            db = Database("sqlite:///{path}")
            with db.session(write=True) as session:
                session.execute(text("INSERT INTO t VALUES (1)"))
                print("holding", flush=True)
                time.sleep({HOLD})
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    started = time.monotonic()
    with db.session(write=True) as session:
        waited = time.monotonic() - started
        session.execute(text("INSERT INTO t VALUES (2)"))
    assert child.wait(timeout=30) == 0
    assert waited > HOLD / 2  # queued behind the other process's transaction ...
    with db.session() as session:  # ... and then wrote after it, nothing lost
        assert session.execute(text("SELECT x FROM t ORDER BY rowid")).scalars().all() == [1, 2]
    db.dispose()


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    with db.session(write=True) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    inside = threading.Event()
    order: list[str] = []

    def first() -> None:
        with db.session(write=True) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            inside.set()
            time.sleep(0.5)
            order.append("first commits")

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(10)
    with db.session(write=True) as session:
        order.append("second begins")
        session.execute(text("INSERT INTO t VALUES (2)"))
    thread.join()
    assert order == ["first commits", "second begins"]
    db.dispose()


def test_the_queue_is_reentrant_within_a_thread(tmp_path: Path) -> None:
    queue = _WriteQueue.for_path(str(tmp_path / "x.db"))
    done = threading.Event()

    def nested() -> None:
        with queue.held():
            with queue.held():
                pass
        done.set()

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    assert done.wait(5), "a nested hold deadlocked"
    # and it is released afterwards: another thread can take it
    other = threading.Event()
    threading.Thread(target=lambda: (queue.held().__enter__(), other.set()), daemon=True).start()
    assert other.wait(5)
