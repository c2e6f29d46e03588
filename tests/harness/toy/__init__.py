"""A toy dynamic provider used by the harness self-tests."""
