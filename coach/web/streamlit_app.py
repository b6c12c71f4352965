"""Entry point for `coach ui`: `streamlit run coach/web/streamlit_app.py`."""
from coach.web.page import main

main()
