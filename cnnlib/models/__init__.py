"""Models: ``zoo`` (the teaching material's architectures), ``vgg16`` (VGG16 on
ImageNet, offline first), ``inference`` (fast prediction on a few images)."""
