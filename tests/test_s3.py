"S3 upload after training and download for inference, against a real S3-compatible server on 127.0.0.1."
import boto3, pytest, torch
from conftest import cli, tiny_args
from msls_nb.checkpoint import load_generator, UserError

def test_train_uploads_and_generator_loads_from_s3(tmp_path, s3_server, monkeypatch):
    for k, v in s3_server.items(): monkeypatch.setenv(k, v)
    monkeypatch.setenv('MSLS_NB_CACHE', str(tmp_path / 'cache'))
    boto3.client('s3').create_bucket(Bucket='runs-bucket')
    r = cli(*tiny_args(tmp_path, 's3run'), '-ne', '1', '--logging', 'False', '-s3', 's3://runs-bucket/team', check=0)
    keys = sorted(o['Key'] for o in boto3.client('s3').list_objects_v2(Bucket='runs-bucket')['Contents'])
    assert keys == ['team/s3run/samples_epoch_1.png', 'team/s3run/slim_checkpoint_1.pt']
    assert (tmp_path / 's3run' / 'slim_checkpoint_1.pt').exists()                     # local files are kept
    G = load_generator('s3://runs-bucket/team/s3run/slim_checkpoint_1.pt')
    assert G(torch.randn(2, 16)).shape == (2, 3, 32, 32)

def test_s3_failures_are_clear_and_keep_local_files(tmp_path, s3_server, monkeypatch):
    for k, v in s3_server.items(): monkeypatch.setenv(k, v)
    r = cli(*tiny_args(tmp_path, 'nobucket'), '-ne', '1', '--logging', 'False', '-s3', 'missing-bucket', check=2)
    assert 'upload of' in r.stderr and 'the local file is kept' in r.stderr
    assert (tmp_path / 'nobucket' / 'slim_checkpoint_1.pt').exists()
    with pytest.raises(UserError, match='download of s3://missing-bucket/x.pt failed'):
        load_generator('s3://missing-bucket/x.pt')
