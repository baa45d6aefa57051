"""The registry of built-in data sets: where each comes from, how to read it, whom to cite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Builtin", "BUILTINS", "DEFAULT_DATASET"]


def _lf_normalised_without_header(raw: bytes) -> bytes:
    """SMS Spam copies differ in line ends and an optional ``Label<TAB>SMS`` header."""
    data = raw.replace(b"\r\n", b"\n")
    if data[:10].lower().startswith(b"label\tsms"):
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    return data


def _identity(raw: bytes) -> bytes:
    return raw


@dataclass(frozen=True)
class Builtin:
    """One built-in data set.

    Attributes:
        name: the name users type (``imblab data inspect sms_spam``).
        filename: the file inside ``$IMBLAB_DATA_DIR/<name>/`` and the cache.
        url: canonical download address.
        archive_member: the file to take from ``url`` when it is a zip archive.
        sha256: checksum of ``canonicalise(file bytes)``.
        canonicalise: bytes -> bytes normalisation applied before checksum and parsing.
        format: ``sms`` (label<TAB>text lines) or ``csv``.
        text_column, label_column: for ``csv``.
        label_names: maps raw label values to names; also fixes the class order.
        description, citation, license: shown by ``imblab data list``.
    """

    name: str
    filename: str
    url: str
    sha256: str
    format: str
    label_names: dict[str, str]
    description: str
    citation: str
    license: str
    archive_member: str | None = None
    text_column: str | None = None
    label_column: str | None = None
    canonicalise: Callable[[bytes], bytes] = _identity
    default_probes: tuple[str, ...] = ()


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin(
            name="sms_spam",
            filename="SMSSpamCollection",
            url="https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip",
            archive_member="SMSSpamCollection",
            sha256="7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
            format="sms",
            canonicalise=_lf_normalised_without_header,
            label_names={"ham": "ham", "spam": "spam"},
            description="UCI SMS Spam Collection v.1: 5,574 SMS, 747 spam (13.4 %).",
            citation=(
                "Almeida, T.A., Gómez Hidalgo, J.M., Yamakami, A. Contributions to the Study of SMS Spam "
                "Filtering: New Collection and Results. DocEng 2011."
            ),
            license="CC BY 4.0",
            default_probes=("Call to claim your prize!",),
        ),
        Builtin(
            name="hate_speech",
            filename="labeled_data.csv",
            url=(
                "https://raw.githubusercontent.com/t-davidson/hate-speech-and-offensive-language/"
                "master/data/labeled_data.csv"
            ),
            sha256="fcb8bc7c68120ae4af04a5b9acd58585513ede11e1548ebf36a5c2040b6f6281",
            format="csv",
            text_column="tweet",
            label_column="class",
            label_names={"0": "hate_speech", "1": "offensive_language", "2": "neither"},
            description="Davidson et al. tweets: 24,783, hate speech 5.8 %. Contains offensive language.",
            citation=(
                "Davidson, T., Warmsley, D., Macy, M., Weber, I. Automated Hate Speech Detection and the "
                "Problem of Offensive Language. ICWSM 2017."
            ),
            license="MIT",
        ),
    )
}

DEFAULT_DATASET = "sms_spam"
