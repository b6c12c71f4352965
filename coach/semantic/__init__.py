"""The semantic layer beside the rules.

Each sentence of the letter's own text is embedded with the bundled multilingual-e5-small and
scored per move by a small logistic model trained on the labeled sentence corpus under
``knowledge/lang/<xx>/corpus/``; the client's mail gets a scenario the same way.
``coach.semantic.combine`` merges those scores with the rule hits (rules stay authoritative).
A fault the model scores in a middle band is added only when a second opinion agrees: the vote of the
nearest corpus sentences (``knowledge/semantic/exemplars.npy``, built with the weights by ``coach train``).
``tools/sem_experiment.py`` (not shipped) measures variants of the layer on the labeled sets.

Modules: ``corpus`` (the training data, validated), ``config`` (thresholds and messages),
``model`` (weights and scoring), ``train`` (rebuilds the weights), ``combine`` (the merge).
"""
