"""The topic router on a small playbook-like set of topics, with the real MiniLM encoder:
routing, several topics per message, the out-of-scope threshold, serialisation, the
multi-label router, the lexical fallback encoder and the pieces underneath."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from onethread.assistant.calibration import choose_threshold, stratified_folds
from onethread.assistant.encoder import LexicalEncoder, MiniLMEncoder, TextEncoder
from onethread.assistant.linear_model import fit_softmax, minimize_lbfgs
from onethread.assistant.multilabel import MultiLabelRouter
from onethread.assistant.routing import RouterConfig, TopicRouter, label_name_text
from onethread.assistant.segments import split_segments

TOPICS: dict[str, list[str]] = {
    "billing_double_charge": [
        "I was charged twice for my subscription",
        "there are two identical payments on my card this month",
        "you billed me two times for the same invoice",
        "why did I pay double this month",
        "duplicate charge on my credit card statement",
        "the same amount was taken from my account twice",
        "I see my plan fee twice on my bank statement",
        "refund the extra payment you took",
    ],
    "export_bug": [
        "the export button does nothing when I click it",
        "exporting to CSV fails with an error",
        "I can't download my report, the export is broken",
        "export to PDF crashes the app",
        "the exported file is empty",
        "nothing happens when I press export",
        "export stopped working after the last update",
        "my spreadsheet export never finishes",
    ],
    "password_reset": [
        "I forgot my password",
        "how do I reset my password",
        "the password reset email never arrives",
        "I can't log in, I need a new password",
        "reset link has expired",
        "change my login password please",
        "locked out of my account after too many password attempts",
        "where do I set a new password",
    ],
    "delivery_status": [
        "where is my order",
        "my parcel has not arrived yet",
        "when will my package be delivered",
        "tracking says delivered but nothing came",
        "how long does shipping take",
        "my delivery is late",
        "can I track my shipment",
        "the courier never showed up",
    ],
}
OUT_OF_SCOPE = [
    "what's the weather like in Paris tomorrow",
    "tell me a joke about penguins",
    "who won the football match last night",
    "recommend a good recipe for lasagna",
    "how tall is the Eiffel tower",
    "play some jazz music",
    "what is the capital of Australia",
    "translate good morning into Italian",
    "set an alarm for 7am",
    "how many calories are in a banana",
]


def _flat(topics: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    texts = [text for examples in topics.values() for text in examples]
    labels = [label for label, examples in topics.items() for _ in examples]
    return texts, labels


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return MiniLMEncoder()


@pytest.fixture(scope="module")
def router(encoder: TextEncoder) -> TopicRouter:
    texts, labels = _flat(TOPICS)
    return TopicRouter.train_calibrated(
        [*texts, *OUT_OF_SCOPE], [*labels, *["oos"] * len(OUT_OF_SCOPE)], encoder
    )


def test_routes_paraphrases_to_their_topic(router: TopicRouter, encoder: TextEncoder) -> None:
    messages = {
        "hey, I think you took my money twice": "billing_double_charge",
        "the CSV download is not working": "export_bug",
        "I don't remember my password": "password_reset",
        "my order still hasn't shown up": "delivery_status",
    }
    texts = list(messages)
    ranked = router.predict(encoder.encode(texts), texts)
    assert [row[0].label for row in ranked] == list(messages.values())
    for row in ranked:
        assert len(row) == 3
        assert row[0].confidence >= row[1].confidence >= row[2].confidence
        assert 0 < row[0].confidence <= 1


def test_a_message_with_two_topics_gets_both_with_their_clauses(
    router: TopicRouter, encoder: TextEncoder
) -> None:
    text = "I was double-charged and the export button is broken"
    routed = router.route_message(text, encoder)
    assert [match.label for match in routed] == ["billing_double_charge", "export_bug"]
    assert routed[0].segment == "I was double-charged"
    assert routed[1].segment == "the export button is broken"
    assert all(match.confidence >= router.threshold for match in routed)


def test_route_reuses_the_vector_of_the_whole_message(
    router: TopicRouter, encoder: TextEncoder
) -> None:
    text = "Mi contraseña no funciona. Also my parcel has not arrived"
    vector = encoder.encode([text])[0]
    routed = router.route_message(text, encoder, vector=vector)
    assert {match.label for match in routed} >= {"delivery_status"}


def test_calibrated_threshold_refuses_out_of_scope_messages(
    router: TopicRouter, encoder: TextEncoder
) -> None:
    assert router.calibration is not None
    assert router.calibration.objective == "oos"
    assert router.calibration.n_out_of_scope == len(OUT_OF_SCOPE)
    assert 0 < router.threshold < 1
    unrelated = ["what time does the sun set in Lisbon", "write me a poem about autumn leaves"]
    for text, vector in zip(unrelated, encoder.encode(unrelated), strict=True):
        assert router.decide(vector, text) is None
        assert router.route_message(text, encoder) == []
    in_scope = "please reset my password"
    decided = router.decide(encoder.encode([in_scope])[0], in_scope)
    assert decided is not None
    assert decided.label == "password_reset"


def test_without_out_of_scope_examples_the_threshold_comes_from_in_scope_confidence(
    encoder: TextEncoder,
) -> None:
    texts, labels = _flat(TOPICS)
    router = TopicRouter.train_calibrated(texts, labels, encoder)
    assert router.calibration is not None
    assert router.calibration.objective == "selective"
    assert router.calibration.oos_recall is None
    assert 0 <= router.threshold < 1


def test_serialised_router_predicts_the_same(router: TopicRouter, encoder: TextEncoder) -> None:
    restored = TopicRouter.from_bytes(router.to_bytes())
    texts = ["my package is late", "two charges on my card"]
    vectors = encoder.encode(texts)
    np.testing.assert_allclose(
        restored.confidences(vectors, texts), router.confidences(vectors, texts), rtol=1e-6
    )
    assert restored.threshold == router.threshold
    assert restored.labels == router.labels
    assert restored.calibration == router.calibration
    with pytest.raises(ValueError, match="not a topic router"):
        TopicRouter.from_bytes(
            MultiLabelRouter.train(["a b c", "d e f"], [["x"], ["y"]], encoder).to_bytes()
        )


def test_router_refuses_vectors_of_another_encoder(router: TopicRouter) -> None:
    with pytest.raises(ValueError, match="trained on"):
        router.route_message("where is my order", LexicalEncoder())


def test_a_lexical_router_needs_the_texts(router: TopicRouter, encoder: TextEncoder) -> None:
    with pytest.raises(ValueError, match="pass the texts"):
        router.confidences(encoder.encode(["where is my order"]))
    semantic_only = TopicRouter.train(
        *_flat(TOPICS), encoder, config=RouterConfig(lexical_weight=0.0)
    )
    assert semantic_only.lexical is None
    best = semantic_only.predict(encoder.encode(["where is my order"]))[0][0]
    assert best.label == "delivery_status"


def test_twenty_topics_of_ten_examples_train_and_route() -> None:
    """How fast this trains is measured in bench/routing.py, not asserted here."""
    generator = np.random.default_rng(0)
    centres = generator.normal(size=(20, 384))
    vectors = np.repeat(centres, 10, axis=0) + generator.normal(scale=0.8, size=(200, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    labels = [f"topic_{i}" for i in range(20) for _ in range(10)]
    texts = [f"message {i} about topic {i // 10}" for i in range(200)]
    config = RouterConfig(label_names_as_examples=False)
    router = TopicRouter.train(texts, labels, LexicalEncoder(384), vectors=vectors, config=config)
    assert router.predict(vectors[:1], texts[:1])[0][0].label == "topic_0"


def test_router_still_works_with_the_lexical_fallback_encoder() -> None:
    lexical = LexicalEncoder()
    texts, labels = _flat(TOPICS)
    router = TopicRouter.train(texts, labels, lexical)
    messages = {
        "the export button is broken": "export_bug",
        "reset my password": "password_reset",
        "where is my parcel": "delivery_status",
    }
    ranked = router.predict(lexical.encode(list(messages)), list(messages))
    assert [row[0].label for row in ranked] == list(messages.values())


def test_multi_label_router_finds_labels_that_share_a_clause(encoder: TextEncoder) -> None:
    examples = [
        ("block my card, I lost it", ["card", "lost_stolen", "block"]),
        ("my card was stolen", ["card", "lost_stolen"]),
        ("please freeze my card", ["card", "block"]),
        ("I lost my card yesterday", ["card", "lost_stolen"]),
        ("block my account", ["account", "block"]),
        ("someone stole my phone and my card", ["card", "lost_stolen"]),
        ("close my account", ["account", "block"]),
        ("what is my account balance", ["account", "balance"]),
        ("how much money is in my account", ["account", "balance"]),
        ("show me my balance", ["balance"]),
        ("can you freeze my debit card", ["card", "block"]),
        ("my wallet with my cards is gone", ["card", "lost_stolen"]),
    ] * 2
    texts = [text for text, _ in examples]
    router = MultiLabelRouter.train_calibrated(texts, [labels for _, labels in examples], encoder)
    assert 0 < router.threshold < 1
    message = "I lost my card, please block it"
    predicted = {score.label for score in router.predict(encoder.encode([message]), [message])[0]}
    assert {"card", "lost_stolen", "block"} <= predicted
    assert "balance" not in predicted
    restored = MultiLabelRouter.from_bytes(router.to_bytes())
    np.testing.assert_allclose(
        restored.probabilities(encoder.encode([message]), [message]),
        router.probabilities(encoder.encode([message]), [message]),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        (
            "I was double-charged and the export button is broken",
            ["I was double-charged", "the export button is broken"],
        ),
        (
            "Where can I read the terms and conditions?",
            ["Where can I read the terms and conditions?"],
        ),
        ("refund and cancel", ["refund and cancel"]),
        (
            "Hi! My card was declined. Also, how do I change my PIN?",
            ["Hi! My card was declined.", "Also, how do I change my PIN?"],
        ),
        (
            "Me cobraron dos veces y el botón de exportar no funciona",
            ["Me cobraron dos veces", "el botón de exportar no funciona"],
        ),
        (
            "On m'a facturé deux fois mais l'export est cassé",
            ["On m'a facturé deux fois", "l'export est cassé"],
        ),
        ("我被重复扣款了。导出按钮坏了", ["我被重复扣款了。", "导出按钮坏了"]),
    ],
)
def test_split_segments(text: str, segments: Sequence[str]) -> None:
    found = split_segments(text)
    assert [segment.text for segment in found] == list(segments)
    for segment in found:
        assert text[segment.start : segment.end] == segment.text


def test_split_segments_keeps_at_most_four() -> None:
    text = ". ".join(f"sentence number {n} here" for n in range(7))
    found = split_segments(text)
    assert len(found) == 4
    assert found[-1].end == len(text)


def test_threshold_separates_held_out_confidences() -> None:
    in_scope = np.array([0.9, 0.8, 0.85, 0.7, 0.95, 0.3])
    correct = np.array([True, True, True, True, True, False])
    out_of_scope = np.array([0.2, 0.25, 0.4, 0.1])
    calibration = choose_threshold(in_scope, correct, out_of_scope, oos_share=0.5)
    assert 0.4 < calibration.threshold < 0.7
    assert calibration.in_scope_accuracy == pytest.approx(5 / 6)
    assert calibration.oos_recall == 1.0
    assert calibration.score == pytest.approx(0.5 * 5 / 6 + 0.5)
    selective = choose_threshold(in_scope, correct)
    assert selective.objective == "selective"
    assert 0.3 < selective.threshold < 0.7
    assert selective.score == 1.0


def test_folds_spread_every_label() -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 2
    folds = stratified_folds(labels, 5, seed=3)
    assert sorted(folds[:10].tolist()) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert sorted(folds[10:15].tolist()) == [0, 1, 2, 3, 4]
    assert np.array_equal(folds, stratified_folds(labels, 5, seed=3))


def test_lbfgs_reaches_the_minimum_of_a_quadratic() -> None:
    matrix = np.array([[3.0, 1.0], [1.0, 2.0]])
    target = np.array([1.0, -2.0])

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        difference = x - target
        return float(difference @ matrix @ difference), 2 * matrix @ difference

    np.testing.assert_allclose(minimize_lbfgs(objective, np.zeros(2)), target, atol=1e-4)


def test_softmax_regression_separates_separable_data() -> None:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    model = fit_softmax(vectors, np.array([0, 0, 1, 1]), 2, c=100.0)
    assert model.logits(vectors).argmax(axis=1).tolist() == [0, 0, 1, 1]
    assert np.allclose(np.exp(model.log_proba(vectors)).sum(axis=1), 1.0)


def test_label_names_read_as_phrases() -> None:
    assert label_name_text("card_arrival") == "card arrival"
    assert label_name_text("top-up__failed") == "top up failed"
