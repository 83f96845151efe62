"""Command line: ``python -m cnnlib {train,prefetch,models,bench}``."""

from __future__ import annotations

import argparse
import os
import sys


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cmd_train(args) -> int:
    from tqdm import tqdm

    from . import datasets, store, training

    config = training.TrainConfig(
        dataset=args.dataset, arch=args.arch, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, learning_rate=args.lr, lr_schedule=args.lr_schedule,
        validation_split=args.val_split, augment_stroke=args.stroke,
        augment_flip=args.flip, augment_shift=args.shift, augment_rotation=args.rotation,
        augment_zoom=args.zoom, early_stopping_patience=args.patience, seed=args.seed,
        n_train=args.n_train, data_dir=args.data_dir)
    try:
        config.validate()
        if args.save:
            store.validate_name(args.save)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    bar = None

    def on_event(ev):
        nonlocal bar
        if ev["type"] == "start":
            print(f"{config.arch} ({ev['params']:,} params) on {config.dataset}: "
                  f"{ev['n_train']} train / {ev['n_val']} val / {ev['n_test']} test images "
                  f"from {ev['dataset_source']}")
        elif ev["type"] == "batch":
            if bar is None or bar.desc != f"epoch {ev['epoch']}/{config.epochs}":
                if bar is not None:
                    bar.close()
                bar = tqdm(total=ev["batches"], desc=f"epoch {ev['epoch']}/{config.epochs}",
                           unit="batch", leave=True)
            bar.n = ev["batch"]
            bar.set_postfix(loss=f"{ev['loss']:.4f}", acc=f"{ev['accuracy']:.4f}", refresh=False)
            bar.refresh()
        elif ev["type"] == "epoch":
            if bar is not None:
                bar.close()
                bar = None
            val = (f" val_loss {ev['val_loss']:.4f} val_acc {ev['val_accuracy']:.4f}"
                   if ev["val_loss"] is not None else "")
            print(f"epoch {ev['epoch']}: loss {ev['loss']:.4f} acc {ev['accuracy']:.4f}{val} "
                  f"({ev['samples_per_s']:.0f} samples/s, {ev['elapsed']:.0f} s elapsed)")

    try:
        result = training.train(config, on_event=on_event)
    except datasets.DatasetUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"test accuracy {result.test_accuracy:.4f} (loss {result.test_loss:.4f}) on "
          f"{result.n_test} test images; run directory {result.run_dir}")
    if args.save:
        path = store.save_model(result.model, args.save, overwrite=args.overwrite,
                                card=store.card_from_result(result, config) | {"notes": args.notes})
        print(f"saved {path}")
    return 0


def cmd_models(args) -> int:
    from . import paths, store

    models = store.list_models()
    if not models:
        print(f"no models in {paths.models_dir()}")
    for m in models:
        print(m.label())
    return 0


def cmd_prefetch(args) -> int:
    from . import prefetch

    return prefetch.main(datasets=args.datasets, vgg16=args.vgg16)


def cmd_bench(args) -> int:
    from . import bench

    return bench.main(quick=args.quick, only=args.only, readme=args.readme)


def main(argv=None) -> int:
    from . import datasets, training, zoo

    p = argparse.ArgumentParser(prog="python -m cnnlib", description="CNN Studio's library, headless.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model from the zoo")
    t.add_argument("--dataset", default="mnist", choices=datasets.names())
    t.add_argument("--arch", default="studio_cnn", choices=list(zoo.ARCHITECTURES))
    d = training.TrainConfig()
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--optimizer", default=d.optimizer, choices=training.OPTIMIZERS)
    t.add_argument("--lr", type=float, default=d.learning_rate, help="learning rate")
    t.add_argument("--lr-schedule", default=d.lr_schedule, choices=training.LR_SCHEDULES)
    t.add_argument("--stroke", action="store_true", help="augment: random stroke width (digits)")
    t.add_argument("--val-split", type=float, default=d.validation_split)
    t.add_argument("--flip", action="store_true", help="augment: random horizontal flips")
    t.add_argument("--shift", type=float, default=0.0, help="augment: translation fraction")
    t.add_argument("--rotation", type=float, default=0.0, help="augment: rotation in degrees")
    t.add_argument("--zoom", type=float, default=0.0, help="augment: zoom fraction")
    t.add_argument("--patience", type=int, default=0, help="early stopping patience (0 = off)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--n-train", type=int, default=None, help="stratified training subset size")
    t.add_argument("--data-dir", default=None, help=f"folder with <dataset>.npz (else ${datasets.ENV_DATA_DIR})")
    t.add_argument("--save", default=None, metavar="NAME", help="save to the model store as NAME")
    t.add_argument("--overwrite", action="store_true", help="replace a stored model of that name")
    t.add_argument("--notes", default="", help="free text for the model card")
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("models", help="list the model store")
    m.set_defaults(func=cmd_models)

    f = sub.add_parser("prefetch", help="download datasets (and VGG16) into the Keras cache")
    f.add_argument("--datasets", nargs="*", default=["mnist", "fashion_mnist", "cifar10"])
    f.add_argument("--vgg16", action="store_true", help="also the VGG16 ImageNet weights and class index")
    f.set_defaults(func=cmd_prefetch)

    b = sub.add_parser("bench", help="measure every speed figure against its reference")
    b.add_argument("--quick", action="store_true", help="fewer repeats and smaller runs")
    b.add_argument("--only", nargs="*", default=None, help="benchmark modules to run")
    b.add_argument("--readme", action="store_true", help="write the table into README.md's Performance section")
    b.set_defaults(func=cmd_bench)

    args = p.parse_args(argv)
    _quiet_tensorflow()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
