"""Stand-ins for cloud platform services, each run as its own process (`python -m emulators...`).

They import nothing of the app (`shared`, `blueprints`) nor of the dev tooling; what they share
with the app's local adapters is the files declared in `emulator_formats`.
"""
