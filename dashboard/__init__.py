"""The socialsim dashboard (Streamlit + Plotly), started by ``socialsim dashboard``.

Modules: ``app`` (entry point and navigation), ``compute`` (cached calls into :mod:`sim`),
``scenarios`` (URL, uploads, population guard), ``controls`` (lever widgets), ``charts``
(Plotly figures), ``story`` (the workshop storyline), ``views/`` (one script per page).
The dashboard holds no model logic: every number comes from :func:`sim.run` or the model's
public API.
"""
