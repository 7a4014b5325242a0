#include "envs/mamujoco/robot.h"

namespace tandem::envs {

const Robot& AntRobot();
const Robot& HalfCheetahRobot();
const Robot& HopperRobot();
const Robot& Walker2dRobot();

namespace {

std::vector<const Robot*> AllRobots() {
  return {&AntRobot(), &HalfCheetahRobot(), &HopperRobot(), &Walker2dRobot()};
}

}  // namespace

const Robot* FindRobot(const std::string& name) {
  for (const Robot* robot : AllRobots()) {
    if (robot->name() == name) return robot;
  }
  return nullptr;
}

std::vector<std::string> RobotNames() {
  std::vector<std::string> names;
  for (const Robot* robot : AllRobots()) names.push_back(robot->name());
  return names;
}

double SquaredNorm(absl::Span<const float> action) {
  double sum = 0;
  for (float a : action) sum += static_cast<double>(a) * a;
  return sum;
}

}  // namespace tandem::envs
