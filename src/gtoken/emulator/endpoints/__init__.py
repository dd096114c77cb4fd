"""The emulator's HTTP routes: Google's OAuth endpoints, identity endpoints, the control API."""
