"""A model saved as one folder (weights, config, classes, card) comes back bit-identical and predicts the same:
from the folder, from a Hub repository in the local cache (offline), through the tools; push_to_hub uploads it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import segkit
from segkit.apis import inference_model, init_model
from segkit.fileio.saved_model import FILES, open_saved_model
from tests.hub_support import fill_hub_cache
from tests.test_backbones import randomize_bn
from tests.tools_support import REPO, real_image, timm_encoder, write_tiny_checkpoint, write_tiny_config

pytest.importorskip('safetensors', reason="saving needs safetensors (pip install -e '.[hub]')")


def _trained_looking(model):
    randomize_bn(model)
    return model.eval()


@pytest.fixture(params=['timm', 'resnet'])
def original(request, tmp_path):
    """A model as init_model builds it (random weights, non-trivial BN statistics), and its image."""
    if request.param == 'timm':
        pytest.importorskip('timm')
        torch.manual_seed(0)
        model = init_model(str(write_tiny_config(tmp_path, timm_encoder())), fast=False)
    else:
        config, checkpoint = write_tiny_checkpoint(tmp_path)
        model = init_model(str(config), str(checkpoint), fast=False)
    return _trained_looking(model), real_image(tmp_path)


def _state(model):
    return model.state_dict()


def assert_bit_identical(a, b):
    sa, sb = _state(a), _state(b)
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype and torch.equal(sa[key], sb[key]), key


def test_round_trip_is_bit_identical_and_predicts_the_same(original, tmp_path):
    model, image = original
    folder = model.save_pretrained(tmp_path / 'saved', metrics={'mIoU': 12.345})
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    loaded = segkit.from_pretrained(folder, fast=False)
    assert_bit_identical(model, loaded)
    expected, got = inference_model(model, str(image)), inference_model(loaded, str(image))
    assert torch.equal(expected.seg_logits.data, got.seg_logits.data)
    fast = segkit.from_pretrained(str(folder))  # BN folded, channels-last: the same labels
    assert torch.equal(inference_model(fast, str(image)).pred_sem_seg.data, expected.pred_sem_seg.data)
    assert loaded.dataset_meta['classes'] == model.dataset_meta['classes']
    # saving the loaded model writes the same weights file, byte for byte
    again = loaded.save_pretrained(tmp_path / 'again')
    assert (again / 'model.safetensors').read_bytes() == (folder / 'model.safetensors').read_bytes()


def test_the_folder_holds_config_classes_and_card(original, tmp_path):
    model, _ = original
    folder = model.save_pretrained(tmp_path / 'shapes-model', metrics={'mIoU': 12.345}, command='python x.py')
    meta = json.loads((folder / 'meta.json').read_text())
    assert meta['classes'][0] == 'background' and len(meta['classes']) == len(meta['palette']) == 6
    assert meta['metrics'] == {'mIoU': 12.345} and meta['format_version'] == 1
    card = (folder / 'README.md').read_text()
    assert card.startswith('---\nlibrary_name: segkit') and '# shapes-model' in card
    assert 'DeepLabv3+' in card and 'mIoU 12.35' in card and '`python x.py`' in card and 'ShapesDataset' in card
    saved = Config.fromfile(str(folder / 'config.py'))
    assert saved.model.to_dict() == model.source_cfg.model.to_dict()
    assert 'work_dir' not in saved and 'load_from' not in saved
    assert saved.test_dataloader.dataset.pipeline == model.cfg.test_dataloader.dataset.pipeline


def test_the_classes_come_from_the_folder(tmp_path):
    config, checkpoint = write_tiny_checkpoint(tmp_path)
    model = init_model(str(config), str(checkpoint), fast=False)
    classes = ('sky', 'disc', 'box', 'tri', 'ring', 'cross')
    palette = [(i, 2 * i, 3 * i) for i in range(6)]
    folder = model.save_pretrained(tmp_path / 'saved', dataset_meta=dict(classes=classes, palette=palette))
    loaded = segkit.from_pretrained(folder)
    assert loaded.dataset_meta == dict(classes=classes, palette=palette)


def test_the_saved_config_is_as_trained_not_the_fast_inference_one(tmp_path):
    config, checkpoint = write_tiny_checkpoint(tmp_path)
    fast = init_model(str(config), str(checkpoint))  # fuse_bn and channels-last turned on for inference
    assert fast.cfg.model.test_cfg.fuse_bn and fast.channels_last
    folder = fast.save_pretrained(tmp_path / 'saved')
    saved = Config.fromfile(str(folder / 'config.py'))
    assert 'fuse_bn' not in saved.model.test_cfg and 'channels_last' not in saved.model
    loaded = segkit.from_pretrained(folder, fast=False)
    assert not loaded.channels_last and not loaded.inference_options.fuse_bn
    assert_bit_identical(init_model(str(config), str(checkpoint), fast=False), loaded)


def test_from_a_hub_repository_in_the_cache_offline(original, tmp_path, offline_hub):
    model, _ = original
    folder = model.save_pretrained(tmp_path / 'saved')
    fill_hub_cache(offline_hub, 'someone/tiny-deeplab', {name: folder / name for name in FILES})
    assert_bit_identical(model, segkit.from_pretrained('someone/tiny-deeplab', fast=False))
    with pytest.raises(OSError, match=r"'someone/absent' is not a saved-model folder here and could not be fetched "
                                      r'from the Hugging Face Hub \(HF_HUB_OFFLINE=1\)'):
        segkit.from_pretrained('someone/absent')


def test_from_a_hub_repository_in_a_fresh_process_with_hf_hub_offline(tmp_path):
    """As a user runs it: HF_HOME pointing at a cache that holds the repository, HF_HUB_OFFLINE=1."""
    config, checkpoint = write_tiny_checkpoint(tmp_path)
    model = init_model(str(config), str(checkpoint), fast=False)
    folder = model.save_pretrained(tmp_path / 'saved')
    fill_hub_cache(tmp_path / 'hf_home' / 'hub', 'someone/tiny-deeplab', {name: folder / name for name in FILES})
    code = ('import torch, segkit\n'
            "m = segkit.from_pretrained('someone/tiny-deeplab', fast=False)\n"
            "print(sum(float(v.double().sum()) for v in m.state_dict().values()))\n")
    env = dict(os.environ, HF_HOME=str(tmp_path / 'hf_home'), HF_HUB_OFFLINE='1', PYTHONPATH=str(REPO))
    env.pop('HF_HUB_CACHE', None)
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    expected = sum(float(v.double().sum()) for v in model.state_dict().values())
    assert float(out.stdout.strip().splitlines()[-1]) == expected


def test_push_to_hub_uploads_the_saved_folder(original, monkeypatch):
    import huggingface_hub
    model, _ = original
    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls['create'] = (repo_id, kwargs)

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        calls['upload'] = (repo_id, {p.name: p.read_bytes() for p in Path(folder_path).iterdir()}, kwargs)
        return 'commit-info'

    monkeypatch.setattr(huggingface_hub.HfApi, 'create_repo', create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, 'upload_folder', upload_folder)
    assert model.push_to_hub('someone/tiny-deeplab', private=True, metrics={'mIoU': 50.0}) == 'commit-info'
    assert calls['create'] == ('someone/tiny-deeplab', dict(private=True, exist_ok=True, repo_type='model'))
    repo_id, files, kwargs = calls['upload']
    assert repo_id == 'someone/tiny-deeplab' and sorted(files) == sorted(FILES)
    assert kwargs['commit_message'] == 'Upload segkit model'
    card = files['README.md'].decode()
    assert "# someone/tiny-deeplab" in card and "segkit.from_pretrained('someone/tiny-deeplab')" in card


def test_bad_folders_and_models_are_named(original, tmp_path):
    model, _ = original
    folder = model.save_pretrained(tmp_path / 'saved')
    (folder / 'meta.json').unlink()
    with pytest.raises(FileNotFoundError, match=r'saved is not a complete saved model: meta.json missing'):
        segkit.from_pretrained(folder)
    with pytest.raises(FileNotFoundError, match='not a folder'):
        segkit.from_pretrained(tmp_path / 'nothing' / 'here')
    bare = model.__class__  # a model built without init_model does not know its config
    del model.source_cfg, model.cfg
    with pytest.raises(ValueError, match=r'does not know its config; pass config=\.\.\.'):
        model.save_pretrained(tmp_path / 'x')
    with pytest.raises(ValueError, match='dataset_meta has 2 classes but the model predicts 6'):
        model.save_pretrained(tmp_path / 'x', config=dict(model=dict(type=bare.__name__)),
                              dataset_meta=dict(classes=('a', 'b')))


# ------------------------------------------------------------------------------------------------------ the tools


@pytest.fixture
def saved_folder(tmp_path):
    config, checkpoint = write_tiny_checkpoint(tmp_path)
    model = init_model(str(config), str(checkpoint), fast=False)
    return model.save_pretrained(tmp_path / 'saved'), config, checkpoint


def _tool(name):
    sys.path.insert(0, str(REPO / 'tools'))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(REPO / 'tools'))


def test_tools_test_takes_the_folder_alone(saved_folder, tmp_path, capsys):
    folder, config, checkpoint = saved_folder
    test_tool = _tool('test')
    from_folder = test_tool.main([str(folder), '--work-dir', str(tmp_path / 'w1')])
    assert f'Loads checkpoint by local backend from path: {folder / "model.safetensors"}' in capsys.readouterr().out
    from_files = test_tool.main([str(config), str(checkpoint), '--work-dir', str(tmp_path / 'w2')])
    assert from_folder['mIoU'] == from_files['mIoU']
    with pytest.raises(ValueError, match='give the CHECKPOINT'):
        test_tool.main([str(config)])


def test_tools_inference_and_web_demo_take_the_folder(saved_folder, tmp_path):
    folder, config, checkpoint = saved_folder
    inference_tool = _tool('inference')
    image = real_image(tmp_path)
    stats = inference_tool.main([str(folder), str(image), '--out', str(tmp_path / 'out')])
    assert stats['done'] == 1 and (tmp_path / 'out' / 'label' / (image.stem + '.png')).is_file()
    args = inference_tool.parse_args([str(config), str(checkpoint), str(image)])
    assert (args.checkpoint, args.input) == (str(checkpoint), str(image))
    with pytest.raises(SystemExit):
        inference_tool.parse_args([str(config), str(image)])  # a config needs its checkpoint
    web_demo = _tool('web_demo')
    args = web_demo.parse_args([str(folder)])
    assert args.checkpoint is None
    assert_bit_identical(init_model(args.config, args.checkpoint, fast=False), init_model(folder, fast=False))
    with pytest.raises(SystemExit):
        web_demo.parse_args([str(config)])


def test_open_saved_model_refuses_another_format(saved_folder):
    folder = saved_folder[0]
    meta = json.loads((folder / 'meta.json').read_text())
    (folder / 'meta.json').write_text(json.dumps(dict(meta, format_version=99)))
    with pytest.raises(ValueError, match='version 99 is not one this segkit reads'):
        open_saved_model(folder)
