# The Space's widget, as evaluate's module template makes it. launch_gradio_widget builds its page with
# gradio 3's `gr.inputs` API, hence sdk_version 3.x in README.md. The module is loaded from this folder
# (the Space's own files), so the widget runs the script pushed next to it.
from pathlib import Path

import evaluate
from evaluate.utils import launch_gradio_widget

module = evaluate.load(str(Path(__file__).parent))
launch_gradio_widget(module)
