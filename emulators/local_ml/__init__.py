"""Azure ML, played locally: the online endpoint's router and the command job runner."""
