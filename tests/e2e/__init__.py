"""Real-browser end-to-end tests: real JupyterLab / Notebook 7 driven by Debian's Chromium."""
