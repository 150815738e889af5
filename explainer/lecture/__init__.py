"""The guided lecture: the path through the story, rooms, live questions and their tallies (no Streamlit).

* :mod:`explainer.lecture.store` — the SQL database every worker shares (SQLite by default, PostgreSQL by URL);
* :mod:`explainer.lecture.rooms` — rooms, the lecturer key, the current step, voting rounds, results, CSV;
* :mod:`explainer.lecture.questions` — the questions and their true answers, computed by the core;
* :mod:`explainer.lecture.path` — the ~12 steps of the story, each with the page and URL state it opens.
"""
