"""Models: ``zoo`` (the teaching material's architectures, named layers, exact
parameter counts), ``vgg16`` (VGG16 on ImageNet: the model, its input and top-k),
``vgg16_files`` (its weights and class index offline, with one download path),
``inference`` (fast prediction on a few images, through the model reader's one
rule for the logits)."""
