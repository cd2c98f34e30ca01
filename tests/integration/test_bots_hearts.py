"""A person against three hard bots to END in hearts (PROTOCOL §14): the
longest of the bot conversations (a match is several hands of 52 moves),
in a file of its own so that it has its own time limit under ASan."""
from harness import run
from test_bots import against_bots


def test_person_against_hard_hearts():
    # 5 ms of thought a move: still ISMCTS, at a cost ASan can bear.
    against_bots("hearts", 4, "hard", think_ms=5, timeout=280)


if __name__ == "__main__":
    run([test_person_against_hard_hearts])
