from setuptools import find_packages, setup


def requirements(path):
    with open(path) as file:
        return [line.strip() for line in file if line.strip()]


def version():
    scope = {}
    with open('mmseg_convlstm/version.py') as file:
        exec(file.read(), scope)
    return scope['__version__']


setup(
    name='mmseg-convlstm',
    version=version(),
    description='Recurrent semantic segmentation for variable computational '
    'budgets, as an MMSegmentation plugin',
    packages=find_packages(include=['mmseg_convlstm', 'mmseg_convlstm.*']),
    python_requires='>=3.9',
    install_requires=requirements('requirements/runtime.txt'),
    extras_require=dict(
        tests=requirements('requirements/tests.txt'),
        deploy=requirements('requirements/deploy.txt'),
        tensorboard=requirements('requirements/tensorboard.txt')),
)
