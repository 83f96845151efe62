"""The one visual language of CNN Studio, the same on every page:

- ``colour``: the colour rule (gray for values >= 0, diverging with 0 white for
  signed ones, one scale for all the values drawn together), its caption, the
  Grad-CAM heat colours and overlay.
- ``numbers``: the one way a number is written.
- ``raster``: the nearest-neighbour enlarge and the PNG encoder.
- ``grids``: a layer's feature maps or kernels as one grid picture (Train's live
  view, Convolution's trained network, Inside the network).
- ``pictures``: the Convolution page's annotated pictures (the input with a kernel
  window, a feature map with a cell framed).
- ``matrix_html``: small matrices as HTML, a number in each coloured cell.
- ``charts``, ``figures_conv``, ``train_plots``, ``plotly_grid``: Plotly figures
  (probabilities and unit values; the sliding window and pooling; training curves;
  their grid layout).
"""
