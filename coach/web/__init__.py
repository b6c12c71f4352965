"""The Streamlit page (``coach ui``): check a draft reply and rewrite it, side by side."""
