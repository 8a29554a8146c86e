"""Language to sign-language gloss: the rule glosser, the Langue2Gloss model, its vocabulary, decoding and scores."""
