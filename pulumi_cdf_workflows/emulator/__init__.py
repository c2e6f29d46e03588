"""A local CDF emulator: workflows, sessions and OAuth token APIs on loopback. Imports nothing from cdf/."""
