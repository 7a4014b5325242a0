"""Shared fixtures: the `tandem` binary (TANDEM, set by CTest) and a real `tandem replay`."""

import os
import subprocess
import time

import pytest


@pytest.fixture(scope="session")
def tandem_binary():
    path = os.environ.get("TANDEM")
    if not path or not os.path.exists(path):
        pytest.skip("TANDEM (the tandem binary) is not set; run through ctest")
    return path


class ReplayProcess:
    """`tandem replay` started on a free loopback port with the given config text."""

    def __init__(self, binary, directory, config_text, env=None):
        self.directory = directory
        config = directory / "replay.textproto"
        config.write_text(config_text)
        port_file = directory / "replay.port"
        self.log = open(directory / "replay.log", "w")
        self.process = subprocess.Popen(
            [binary, "replay", "--config", str(config), "--port_file", str(port_file)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if port_file.exists() and port_file.read_text().strip():
                self.port = int(port_file.read_text().split()[0])
                self.address = f"127.0.0.1:{self.port}"
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"tandem replay did not start: {(directory / 'replay.log').read_text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture
def start_replay(tandem_binary, tmp_path):
    started = []

    def start(config_text, env=None):
        replay = ReplayProcess(tandem_binary, tmp_path, config_text, env)
        started.append(replay)
        return replay

    yield start
    for replay in started:
        replay.stop()
