"""The mock answers under relay prefixes: MJ speed modes and user path maps."""

from __future__ import annotations

import httpx

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread

AUTH = {"Authorization": "Bearer sk-prefix"}


def test_mj_speed_mode_prefix(mock_url: str) -> None:
    r = httpx.post(f"{mock_url}/mj-relax/mj/submit/imagine", json={"prompt": "fox"}, headers=AUTH)
    assert r.status_code == 200 and r.headers["x-relaykit-operation"] == "mj.submit.imagine"
    assert r.headers["x-relaykit-prefix"].startswith("/mj-relax/mj")


def test_user_path_map(contracts: ContractSet) -> None:
    config = MockConfig(path_map=(("/suno/submit", "/suno/v1"),), ttfe=0, interval=0)
    with serve_in_thread(create_app(contracts, config)) as url:
        r = httpx.post(
            f"{url}/suno/v1/music",
            headers=AUTH,
            json={"gpt_description_prompt": "calm", "mv": "chirp-v3-5"},
        )
        assert r.status_code == 200 and r.headers["x-relaykit-operation"] == "suno.submit.music"
        r = httpx.post(
            f"{url}/suno/submit/music", headers=AUTH, json={"gpt_description_prompt": "x"}
        )
        assert r.headers["x-relaykit-operation"] == "suno.submit.music"
