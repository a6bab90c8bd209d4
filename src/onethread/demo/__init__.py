"""The demo workspace: a software company with every channel in sandbox mode."""
