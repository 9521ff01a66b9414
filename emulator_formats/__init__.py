"""The files the app's local adapters and the platform emulators exchange, declared once.

The emulators (`emulators/`) must not import the app, and the app must not import them; both
import these few modules, which import nothing but the standard library.
"""
