"""nbval runs these notebooks offline: demo mode, a throwaway data dir, a quick emulator.

Set at import, before nbval starts any kernel, because kernels inherit this environment.
"""

import os
import tempfile

os.environ.pop("TOKENLAB_API_KEY", None)
os.environ.pop("TOKENLAB_BASE_URL", None)
os.environ["SEEDANCE_WIDGETS_HOME"] = tempfile.mkdtemp(prefix="seedance-nbval-")
os.environ.setdefault("SEEDANCE_EMU_QUEUE_S", "0.3")
os.environ.setdefault("SEEDANCE_EMU_RUN_S", "1.5")
