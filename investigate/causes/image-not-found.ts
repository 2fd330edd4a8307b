/** `image_not_found`: the step's image does not exist on the Docker host. */
import { exitFact, fail, pass, type CauseModule } from '../cause';

export const imageNotFound: CauseModule = {
  cause: 'image_not_found',
  description: "The step's image does not exist (a typo, a tag never built, no registry to pull from).",
  testPlan: 'Read the failure reason; inspect the image on the Docker host.',
  dataNeeded: ['exit', 'image'],
  passRule: 'The run reports image_not_found and the image is absent on the Docker host.',
  failRule: 'The step started (it has an exit code), or the image is present.',
  weight: 100,
  prior: (frame) => (frame.reason === 'image_not_found' ? 1 : 0.05),
  decide(frame, probes) {
    const image = probes.image;
    if (frame.reason === 'image_not_found') {
      if (image && !image.present)
        return pass(0.97, `image '${image.name}' is not on the Docker host`, exitFact(frame));
      return pass(0.8, frame.message ?? exitFact(frame));
    }
    return fail(
      `${exitFact(frame)}: the container started`,
      ...(image?.present ? [`image '${image.name}' is present (${image.id ?? 'no id'})`] : []),
    );
  },
  remediation: "Fix the image name or tag in the pipeline, or build the image on the worker's Docker host.",
  action: 'none',
};
