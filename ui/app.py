"""Entry point for `streamlit run ui/app.py` (what `make run` serves)."""
from coach.web.page import main

main()
