"""From retrieved passages to what the product says: quotes with citations, or an abstention.

- `compose`: the `Answer` type (the JSON contract of every surface) and how an answer is composed;
- `quotes`: which sentences are quoted, and why;
- `disagreement`: where quoted sources differ, so both sides are shown;
- `answer_type`: what kind of answer a question asks for ("When?" asks for a date);
- `conversation`: follow-ups, read with the earlier questions only where they need them;
- `follow_up`: the follow-up ranker's features.
"""
