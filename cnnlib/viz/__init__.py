"""The visual language: the colour rule and pictures (``picture``), grids of
maps and kernels (``mosaic``), HTML matrices (``matrix_html``) and Plotly
figures (``plotly_grid``, ``figures_conv``, ``train_plots``)."""
